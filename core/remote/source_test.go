package remote_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/groveos/grove/core/fetch"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/pull"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// publish extracts the shared archive fixture made by the real ostree
// (testdata/ostree): ref main with two commits, a small tree then a rich
// one with detached metadata; with summary, ostree writes a summary. It
// returns the repository path, main^ and main.
func publish(t *testing.T, summary bool) (string, oid.Checksum, oid.Checksum) {
	t.Helper()
	repotest.NeedOstree(t)
	f := repotest.OstreeFixture(t, repo.ModeArchive)
	if summary {
		repotest.Ostree(t, "--repo="+f.Path, "summary", "-u")
	}
	return f.Path, f.Commits["main^"], f.Commits["main"]
}

// server serves dir and logs the paths asked for.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	log  []string
	hook func(w http.ResponseWriter, r *http.Request) bool // true: handled
}

func serve(t *testing.T, dir string) *server {
	s := &server{}
	fs := http.FileServer(http.Dir(dir))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.log = append(s.log, r.URL.Path)
		hook := s.hook
		s.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		fs.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func addRemote(t *testing.T, r *repo.Repo, name, url string) *remote.Remote {
	t.Helper()
	ctx := context.Background()
	if err := remote.Add(ctx, r, remote.Where{}, remote.AddOptions{Name: name, URL: url, NoGPGVerify: true}); err != nil {
		t.Fatal(err)
	}
	rem, err := remote.Get(r, remote.Where{}, name)
	if err != nil {
		t.Fatal(err)
	}
	return rem
}

func TestPullOverHTTPEveryMode(t *testing.T) {
	pub, c1, c2 := publish(t, true)
	srv := serve(t, pub)
	for _, mode := range []repo.Mode{repo.ModeArchive, repo.ModeBareUser, repo.ModeBare} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := context.Background()
			dst := repotest.NewRepo(t, mode)
			rem := addRemote(t, dst, "origin", srv.URL)
			src, err := remote.Open(ctx, dst, rem, remote.SourceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := pull.Pull(ctx, dst, src, pull.Options{Refs: []string{"main"}, Depth: -1, Remote: "origin"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Refs["main"] != c2 {
				t.Fatalf("pulled %v, want %s", res.Refs, c2)
			}
			if got, _ := dst.ReadRef(ctx, "origin", "main"); got != c2 {
				t.Fatalf("refs/remotes/origin/main = %s", got)
			}
			if ok, _ := dst.HasObject(ctx, oid.ObjectName{Checksum: c1, Type: oid.Commit}); !ok {
				t.Fatal("depth -1 did not bring the parent")
			}
			if dst.IsPartial(c2) || dst.IsPartial(c1) {
				t.Fatal("complete commits left partial")
			}
			repotest.Ostree(t, "--repo="+dst.Path(), "fsck")
			want := t.TempDir() + "/want"
			repotest.Ostree(t, "--repo="+pub, "checkout", "-U", "main", want)
			got := t.TempDir() + "/got"
			repotest.Ostree(t, "--repo="+dst.Path(), "checkout", "-U", "origin:main", got)
			repotest.SameTree(t, want, got)
		})
	}
}

// TestPullIntoBareUserOnly: a tree fit for bare-user-only clients (owned
// by root, no xattrs: the fixture's other/branch) pulls into one.
func TestPullIntoBareUserOnly(t *testing.T) {
	pub, _, _ := publish(t, true)
	srv := serve(t, pub)
	ctx := context.Background()
	dst := repotest.NewRepo(t, repo.ModeBareUserOnly)
	rem := addRemote(t, dst, "origin", srv.URL)
	src, err := remote.Open(ctx, dst, rem, remote.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pull.Pull(ctx, dst, src, pull.Options{Refs: []string{"other/branch"}, Remote: "origin"}); err != nil {
		t.Fatal(err)
	}
	repotest.Ostree(t, "--repo="+dst.Path(), "fsck")
	want, got := t.TempDir()+"/want", t.TempDir()+"/got"
	repotest.Ostree(t, "--repo="+pub, "checkout", "-U", "other/branch", want)
	repotest.Ostree(t, "--repo="+dst.Path(), "checkout", "-U", "origin:other/branch", got)
	repotest.SameTree(t, want, got)
}

func TestNoopPullFetchesOnlyTheSummary(t *testing.T) {
	pub, _, c2 := publish(t, true)
	srv := serve(t, pub)
	ctx := context.Background()
	dst := repotest.NewRepo(t, repo.ModeBareUser)
	rem := addRemote(t, dst, "origin", srv.URL)
	pullOnce := func() {
		t.Helper()
		src, err := remote.Open(ctx, dst, rem, remote.SourceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pull.Pull(ctx, dst, src, pull.Options{Refs: []string{"main"}, Remote: "origin"}); err != nil {
			t.Fatal(err)
		}
	}
	pullOnce()
	first := len(srv.requests())
	if _, err := os.Stat(filepath.Join(dst.Path(), "tmp/cache/summaries/origin")); err != nil {
		t.Fatalf("summary not cached: %v", err)
	}
	pullOnce()
	again := srv.requests()[first:]
	for _, p := range again {
		if p != "/summary.sig" && p != "/summary" {
			t.Errorf("no-op pull asked for %s", p)
		}
	}
	if got, _ := dst.ReadRef(ctx, "origin", "main"); got != c2 {
		t.Fatalf("ref %s", got)
	}
}

func TestPullWithoutSummaryUsesRefsHeads(t *testing.T) {
	pub, _, c2 := publish(t, false)
	srv := serve(t, pub)
	ctx := context.Background()
	dst := repotest.NewRepo(t, repo.ModeBareUser)
	rem := addRemote(t, dst, "origin", srv.URL)
	src, err := remote.Open(ctx, dst, rem, remote.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pull.Pull(ctx, dst, src, pull.Options{Refs: []string{"main"}, Remote: "origin"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := dst.ReadRef(ctx, "origin", "main"); got != c2 {
		t.Fatalf("ref %s", got)
	}
	found := false
	for _, p := range srv.requests() {
		found = found || p == "/refs/heads/main"
	}
	if !found {
		t.Fatal("refs/heads/main never asked for")
	}
	_, err = pull.Pull(ctx, dst, src, pull.Options{Refs: []string{"nope"}, Remote: "origin"})
	if !errors.Is(err, pull.ErrNotFound) || !strings.Contains(err.Error(), "refs/heads/nope") {
		t.Fatalf("missing ref: %v", err)
	}
	// Without a summary a remote cannot list its refs.
	if _, err := pull.Pull(ctx, dst, src, pull.Options{Remote: "origin"}); err == nil {
		t.Fatal("pull of all refs without a summary succeeded")
	}
}

func TestRefusesBareRemote(t *testing.T) {
	repotest.NeedOstree(t)
	pub := t.TempDir() + "/bare"
	repotest.Ostree(t, "--repo="+pub, "init", "--mode=bare-user")
	tree := t.TempDir()
	repotest.WriteFile(t, tree+"/f", "x\n", 0o644)
	repotest.Ostree(t, "--repo="+pub, "commit", "-b", "main", "--tree=dir="+tree)
	repotest.Ostree(t, "--repo="+pub, "summary", "-u")
	srv := serve(t, pub)
	dst := repotest.NewRepo(t, repo.ModeBareUser)
	rem := addRemote(t, dst, "origin", srv.URL)
	_, err := remote.Open(context.Background(), dst, rem, remote.SourceOptions{Fetch: func(o *fetch.Options) { o.Retries = 0 }})
	if !errors.Is(err, remote.ErrMode) || err.Error() != `Can't pull from archives with mode "bare-user"` {
		t.Fatalf("err = %v", err)
	}
}

// TestDeltaListing: what a static-delta pull chooses from, read from an
// ostree-made summary and config.
func TestDeltaListing(t *testing.T) {
	pub, c1, c2 := publish(t, false)
	repotest.Ostree(t, "--repo="+pub, "static-delta", "generate", "--from="+c1.String(), "--to="+c2.String())
	repotest.Ostree(t, "--repo="+pub, "static-delta", "generate", "--empty", "--to="+c2.String())
	srv := serve(t, pub)
	ctx := context.Background()
	dst := repotest.NewRepo(t, repo.ModeBareUser)
	rem := addRemote(t, dst, "origin", srv.URL)
	// No summary and no indexes yet.
	src, err := remote.OpenHTTP(ctx, dst, rem, srv.URL, remote.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if src.StaticDeltas() != nil {
		t.Error("deltas listed without a summary")
	}
	if ok, err := src.IndexedDeltas(ctx); err != nil || ok {
		t.Errorf("indexed deltas before any index: %v %v", ok, err)
	}
	repotest.Ostree(t, "--repo="+pub, "summary", "-u")
	src, err = remote.OpenHTTP(ctx, dst, rem, srv.URL, remote.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := src.StaticDeltas()
	if len(d) != 2 {
		t.Fatalf("deltas %v", d)
	}
	sb, err := src.ReadFile(ctx, "deltas/"+deltaPath(c1, c2)+"/superblock", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if d[c1.String()+"-"+c2.String()] != oid.Sum(sb) {
		t.Error("listed digest is not the superblock's")
	}
	if _, ok := d[c2.String()]; !ok {
		t.Error("scratch delta not listed")
	}
	if ok, _ := src.IndexedDeltas(ctx); !ok {
		t.Error("summary says no indexed deltas")
	}
	// summary -u wrote the indexes and said so in the config, which a
	// remote without a summary is asked.
	os.Remove(filepath.Join(pub, "summary"))
	src, err = remote.OpenHTTP(ctx, dst, rem, srv.URL, remote.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := src.IndexedDeltas(ctx); err != nil || !ok {
		t.Errorf("indexed deltas from config: %v %v", ok, err)
	}
	if _, err := src.ReadFile(ctx, "deltas/nope/superblock", 1<<20); !errors.Is(err, pull.ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
}

// deltaPath is ostree's deltas/ directory of FROM-TO: modified base64,
// split after two characters.
func deltaPath(from, to oid.Checksum) string {
	enc := func(c oid.Checksum) string {
		s := base64.RawStdEncoding.EncodeToString(c[:])
		return strings.ReplaceAll(s, "/", "_")
	}
	f := enc(from)
	return f[:2] + "/" + f[2:] + "-" + enc(to)
}
