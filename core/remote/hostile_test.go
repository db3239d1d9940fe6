package remote_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groveos/grove/core/fetch"
	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/pull"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/summary"
)

// Hostile and broken servers. Each case serves a published repository
// through a hook that misbehaves in one way; the client already has the
// first commit. The pull must fail with an error naming the remote and
// the object (or file), move no ref, and leave a repository that ostree
// fsck accepts, with nothing unverified stored.

type hostileCase struct {
	name string
	// hook misbehaves; h serves the real file.
	hook func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool
	// prepare may rewrite the published repository (crafted objects).
	prepare func(t *testing.T, f *fixture)
	opts    remote.SourceOptions
	depth   int
	fresh   bool     // the client starts empty
	corrupt bool     // the error is an *object.CorruptError
	want    []string // substrings of the error
	wantErr error
}

// fixture is a published archive repository and facts about it.
type fixture struct {
	pub    string
	c1, c2 oid.Checksum
	// file is a content object of c2 that c1 lacks; dirtree a dirtree
	// c2 has and c1 lacks.
	file, dirtree oid.Checksum
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pub, c1, c2 := publish(t, true)
	f := &fixture{pub: pub, c1: c1, c2: c2}
	ctx := context.Background()
	r, err := repo.Open(ctx, pub)
	if err != nil {
		t.Fatal(err)
	}
	// c1 is a small tree, c2 the rich one: its /etc dirtree and
	// /etc/os-release are new.
	com, _ := r.LoadCommit(ctx, c2)
	root, _ := r.LoadDirTree(ctx, com.RootTree)
	_, etc := root.Lookup("etc")
	f.dirtree = etc.Tree
	et, _ := r.LoadDirTree(ctx, etc.Tree)
	osr, _ := et.Lookup("os-release")
	f.file = osr.Checksum
	return f
}

func objectURL(name oid.ObjectName) string { return "/" + repo.ArchivePath(name) }

// republish writes a crafted commit on main (metadata objects given
// raw) and a new summary.
func republish(t *testing.T, f *fixture, metas map[oid.ObjectType][][]byte, c *object.Commit) oid.Checksum {
	t.Helper()
	ctx := context.Background()
	r, err := repo.Open(ctx, f.pub)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := r.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for typ, list := range metas {
		for _, b := range list {
			if _, err := tx.WriteMeta(ctx, typ, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	sum, err := tx.WriteMeta(ctx, oid.Commit, c.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.SetRef("", "main", sum); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := summary.Update(ctx, r, summary.Options{}); err != nil {
		t.Fatal(err)
	}
	return sum
}

func badTreeCase(name, entry string) hostileCase {
	return hostileCase{
		name: "dirtree named " + strconv.Quote(entry),
		prepare: func(t *testing.T, f *fixture) {
			ctx := context.Background()
			r, _ := repo.Open(ctx, f.pub)
			c, _ := r.LoadCommit(ctx, f.c2)
			bad := (&object.DirTree{Files: []object.FileEntry{{Name: entry, Checksum: f.file}}}).Marshal()
			c.RootTree = oid.Sum(bad)
			c.Parent = f.c1
			f.dirtree = c.RootTree
			f.c2 = republish(t, f, map[oid.ObjectType][][]byte{oid.DirTree: {bad}}, c)
		},
		want: []string{"dirtree", "invalid file name"}, wantErr: object.ErrBadName,
	}
}

func hostileCases() []hostileCase {
	serveBytes := func(w http.ResponseWriter, b []byte) {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}
	return []hostileCase{
		{
			name: "content object with the wrong checksum",
			hook: func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool {
				if r.URL.Path != objectURL(oid.ObjectName{Checksum: f.file, Type: oid.File}) {
					return false
				}
				// Another object's perfectly valid .filez.
				other, _ := filepath.Glob(filepath.Join(f.pub, "objects/*/*.filez"))
				for _, p := range other {
					if !strings.Contains(p, f.file.String()[2:]) {
						b, _ := os.ReadFile(p)
						serveBytes(w, b)
						return true
					}
				}
				return false
			},
			want: []string{"corrupted object"}, corrupt: true,
		},
		{
			name: "dirtree with the wrong checksum",
			hook: func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool {
				if r.URL.Path != objectURL(oid.ObjectName{Checksum: f.dirtree, Type: oid.DirTree}) {
					return false
				}
				serveBytes(w, (&object.DirTree{}).Marshal())
				return true
			},
			want: []string{"corrupted object", ".dirtree"}, corrupt: true,
		},
		{
			name: "truncated object (honest length)",
			hook: func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool {
				if r.URL.Path != objectURL(oid.ObjectName{Checksum: f.file, Type: oid.File}) {
					return false
				}
				b, _ := os.ReadFile(filepath.Join(f.pub, r.URL.Path))
				serveBytes(w, b[:len(b)-3])
				return true
			},
			want: []string{".file", "malformed"}, wantErr: object.ErrMalformed,
		},
		{
			name: "truncated object (connection cut)",
			hook: func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool {
				if r.URL.Path != objectURL(oid.ObjectName{Checksum: f.file, Type: oid.File}) {
					return false
				}
				b, _ := os.ReadFile(filepath.Join(f.pub, r.URL.Path))
				w.Header().Set("Content-Length", strconv.Itoa(len(b)))
				w.Write(b[:len(b)/2])
				return true // the handler returns: the body is cut short
			},
			want: []string{".file", "unexpected EOF"}, wantErr: io.ErrUnexpectedEOF,
		},
		{
			name: "metadata over ostree's size cap",
			hook: func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool {
				if r.URL.Path != objectURL(oid.ObjectName{Checksum: f.dirtree, Type: oid.DirTree}) {
					return false
				}
				w.Header().Set("Content-Length", strconv.Itoa(remote.MaxMetadataSize+1))
				w.WriteHeader(http.StatusOK)
				return true // announced, never sent: refused on the header
			},
			want: []string{".dirtree", "too large"}, wantErr: fetch.ErrTooLarge,
		},
		{
			name: "commit larger than the summary says",
			hook: func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool {
				if r.URL.Path != objectURL(oid.ObjectName{Checksum: f.c2, Type: oid.Commit}) {
					return false
				}
				for range 100 { // streamed, no length: cut at the limit
					w.Write(make([]byte, 1000))
					w.(http.Flusher).Flush()
				}
				return true
			},
			want: []string{".commit", "too large"}, wantErr: fetch.ErrTooLarge,
		},
		badTreeCase("..", ".."),
		badTreeCase("/", "etc/passwd"),
		badTreeCase("", ""),
		{
			name: "parent chain that loops back",
			hook: func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool {
				if r.URL.Path != objectURL(oid.ObjectName{Checksum: f.c1, Type: oid.Commit}) {
					return false
				}
				// Asked for the parent, answer with the child.
				b, _ := os.ReadFile(filepath.Join(f.pub, objectURL(oid.ObjectName{Checksum: f.c2, Type: oid.Commit})))
				serveBytes(w, b)
				return true
			},
			depth: -1, fresh: true,
			want: []string{".commit", "corrupted object"}, corrupt: true,
		},
		{
			name: "summary listing a missing commit",
			prepare: func(t *testing.T, f *fixture) {
				os.Remove(filepath.Join(f.pub, objectURL(oid.ObjectName{Checksum: f.c2, Type: oid.Commit})))
			},
			want: []string{".commit", "Server returned HTTP 404"}, wantErr: pull.ErrNotFound,
		},
		{
			name: "HTTP 500 on every try",
			hook: func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool {
				if r.URL.Path != objectURL(oid.ObjectName{Checksum: f.file, Type: oid.File}) {
					return false
				}
				http.Error(w, "boom", http.StatusInternalServerError)
				return true
			},
			want: []string{".file", "Server returned HTTP 500"},
		},
		{
			name: "a server that stalls",
			hook: func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool {
				if r.URL.Path != objectURL(oid.ObjectName{Checksum: f.file, Type: oid.File}) {
					return false
				}
				b, _ := os.ReadFile(filepath.Join(f.pub, r.URL.Path))
				w.Header().Set("Content-Length", strconv.Itoa(len(b)))
				w.Write(b[:len(b)/2])
				w.(http.Flusher).Flush()
				<-r.Context().Done() // and nothing more, until the client gives up
				return true
			},
			opts: remote.SourceOptions{Fetch: func(o *fetch.Options) { o.StallTimeout = 200 * time.Millisecond }},
			want: []string{".file", "stalled"}, wantErr: fetch.ErrStalled,
		},
		{
			name: "redirect loop",
			hook: func(t *testing.T, f *fixture, w http.ResponseWriter, r *http.Request, h http.Handler) bool {
				if r.URL.Path != objectURL(oid.ObjectName{Checksum: f.dirtree, Type: oid.DirTree}) {
					return false
				}
				http.Redirect(w, r, r.URL.Path, http.StatusFound)
				return true
			},
			want: []string{".dirtree", "redirects"}, wantErr: fetch.ErrRedirects,
		},
	}
}

func TestHostileServers(t *testing.T) {
	for _, hc := range hostileCases() {
		t.Run(hc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			var hook atomic.Pointer[func(http.ResponseWriter, *http.Request, http.Handler) bool]
			srv := serve(t, f.pub)
			srv.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if h := hook.Load(); h != nil {
					return (*h)(w, r, http.FileServer(http.Dir(f.pub)))
				}
				return false
			}
			dst := repotest.NewRepo(t, repo.ModeBareUser)
			rem := addRemote(t, dst, "evil", srv.URL)
			opts := hc.opts
			if opts.Fetch == nil {
				opts.Fetch = func(o *fetch.Options) {}
			}
			userFetch := opts.Fetch
			opts.Fetch = func(o *fetch.Options) { o.RetryDelay = time.Millisecond; o.Retries = 2; userFetch(o) }
			// The client has the first commit already (unless the case
			// is about history).
			var before oid.Checksum
			if !hc.fresh {
				src, err := remote.Open(ctx, dst, rem, opts)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := pull.Pull(ctx, dst, src, pull.Options{Refs: []string{"main@" + f.c1.String()}, Remote: "evil"}); err != nil {
					t.Fatal(err)
				}
				before = f.c1
			}
			if hc.prepare != nil {
				hc.prepare(t, f)
			}
			if hc.hook != nil {
				h := func(w http.ResponseWriter, r *http.Request, fs http.Handler) bool { return hc.hook(t, f, w, r, fs) }
				hook.Store(&h)
			}
			start := time.Now()
			src, err := remote.Open(ctx, dst, rem, opts)
			if err == nil {
				_, err = pull.Pull(ctx, dst, src, pull.Options{Refs: []string{"main"}, Remote: "evil", Depth: hc.depth})
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %s", d)
			}
			if err == nil {
				t.Fatal("pull succeeded")
			}
			msg := err.Error()
			if !strings.Contains(msg, "evil") {
				t.Errorf("error does not name the remote: %v", err)
			}
			for _, w := range hc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			var ce *object.CorruptError
			if hc.corrupt && !errors.As(err, &ce) {
				t.Errorf("not a CorruptError: %v", err)
			}
			if hc.wantErr != nil && !errors.Is(err, hc.wantErr) {
				t.Errorf("error is not %v: %v", hc.wantErr, err)
			}
			if got, err := dst.ReadRef(ctx, "evil", "main"); got != before && !(before.IsZero() && err != nil) {
				t.Errorf("ref moved to %s (%v)", got, err)
			}
			repotest.Ostree(t, "--repo="+dst.Path(), "fsck")
		})
	}
}

// TestRetriesThenSucceeds: a server that fails twice with 500 and then
// answers is pulled from, each failure costing one request.
func TestRetriesThenSucceeds(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	srv := serve(t, f.pub)
	var fails atomic.Int64
	path := objectURL(oid.ObjectName{Checksum: f.file, Type: oid.File})
	srv.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == path && fails.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	dst := repotest.NewRepo(t, repo.ModeArchive)
	rem := addRemote(t, dst, "flaky", srv.URL)
	src, err := remote.Open(ctx, dst, rem, remote.SourceOptions{Retries: 2, Fetch: func(o *fetch.Options) { o.RetryDelay = time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pull.Pull(ctx, dst, src, pull.Options{Refs: []string{"main"}, Remote: "flaky"}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range srv.requests() {
		if p == path {
			n++
		}
	}
	if n != 3 {
		t.Errorf("object asked for %d times, want 3", n)
	}
	repotest.Ostree(t, "--repo="+dst.Path(), "fsck")
	// With fewer retries than failures it fails, naming the object.
	fails.Store(-100)
	dst2 := repotest.NewRepo(t, repo.ModeArchive)
	rem2 := addRemote(t, dst2, "flaky", srv.URL)
	src2, err := remote.Open(ctx, dst2, rem2, remote.SourceOptions{Retries: 1, Fetch: func(o *fetch.Options) { o.RetryDelay = time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pull.Pull(ctx, dst2, src2, pull.Options{Refs: []string{"main"}, Remote: "flaky"})
	if err == nil || !strings.Contains(err.Error(), f.file.String()) {
		t.Fatalf("err = %v", err)
	}
}

func TestTLSFailure(t *testing.T) {
	pub, _, _ := publish(t, true)
	srv := httptest.NewTLSServer(http.FileServer(http.Dir(pub)))
	defer srv.Close()
	dst := repotest.NewRepo(t, repo.ModeBareUser)
	rem := addRemote(t, dst, "tlsremote", srv.URL)
	_, err := remote.Open(context.Background(), dst, rem, remote.SourceOptions{})
	if err == nil || !strings.Contains(err.Error(), "tlsremote") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err = %v", err)
	}
	// tls-permissive, as the remote option says, gets through.
	ctx := context.Background()
	kf, _ := keyfile.Parse(dst.Config().Bytes())
	kf.Set(remote.Group("tlsremote"), "tls-permissive", "true")
	if err := dst.SaveConfig(ctx, kf); err != nil {
		t.Fatal(err)
	}
	rem, _ = remote.Get(dst, remote.Where{}, "tlsremote")
	src, err := remote.Open(ctx, dst, rem, remote.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pull.Pull(ctx, dst, src, pull.Options{Refs: []string{"main"}, Remote: "tlsremote"}); err != nil {
		t.Fatal(err)
	}
}
