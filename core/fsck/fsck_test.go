package fsck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/klauspost/compress/flate"
	"golang.org/x/sys/unix"
)

// newRepo commits a rich tree as ref main, with the real ostree or with
// grove, and returns the repository's path and commit.
func newRepo(t *testing.T, mode string, byOstree bool) (string, oid.Checksum) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	p, src := filepath.Join(dir, "repo"), filepath.Join(dir, "src")
	repotest.RichTree(t, src)
	// Incompressible, so that its .filez is large enough to be mapped.
	rnd := make([]byte, 1536<<10)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range rnd {
		rnd[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(filepath.Join(src, "random.bin"), rnd, 0o644); err != nil {
		t.Fatal(err)
	}
	if byOstree {
		repotest.Ostree(t, "init", "--repo="+p, "--mode="+mode)
		repotest.Ostree(t, "commit", "--repo="+p, "-b", "main", "-s", "s", "--tree=dir="+src)
	} else {
		m, err := repo.ParseMode(mode)
		if err != nil {
			t.Fatal(err)
		}
		r, err := repo.Create(ctx, p, repo.CreateOptions{Mode: m})
		if err != nil {
			t.Fatal(err)
		}
		tx, err := r.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		root, err := compose.ImportDir(ctx, tx, src, compose.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{Subject: "s", Branch: "main"}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r := openRepo(t, p)
	c, err := r.ResolveRev(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

func openRepo(t *testing.T, p string) *repo.Repo {
	t.Helper()
	r, err := repo.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// copyRepo copies a repository with its xattrs (bare-user metadata).
func copyRepo(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return dst
}

// lookup finds the object of path in commit c: a content object for a
// file, the dirtree for a directory ending in "/", and its dirmeta for one
// ending in "/.meta".
func lookup(t *testing.T, r *repo.Repo, c oid.Checksum, path string) oid.ObjectName {
	t.Helper()
	ctx := context.Background()
	commit, err := r.LoadCommit(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	tree, meta := commit.RootTree, commit.RootMeta
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, part := range parts {
		if part == "" {
			break
		}
		if part == ".meta" {
			return oid.ObjectName{Checksum: meta, Type: oid.DirMeta}
		}
		dt, err := r.LoadDirTree(ctx, tree)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range dt.Dirs {
			if d.Name == part {
				tree, meta, found = d.Tree, d.Meta, true
			}
		}
		if !found && i == len(parts)-1 {
			for _, f := range dt.Files {
				if f.Name == part {
					return oid.ObjectName{Checksum: f.Checksum, Type: oid.File}
				}
			}
		}
		if !found {
			t.Fatalf("%s not in commit", path)
		}
	}
	return oid.ObjectName{Checksum: tree, Type: oid.DirTree}
}

// fix is one way to damage a repository. It returns the problems fsck
// --all must report, as their exact Error() texts, computed independently
// of package fsck (from the damaged bytes, through package repo).
type fix func(t *testing.T, r *repo.Repo, c oid.Checksum) []string

func corruptMsg(c oid.Checksum, name oid.ObjectName, actual oid.Checksum) string {
	what := "fsck " + name.String()
	if name.Type == oid.File {
		what = "fsck content object " + name.Checksum.String()
	}
	prefix := ""
	if name.Type != oid.Commit {
		prefix = "In commits " + c.String() + ": "
	}
	return fmt.Sprintf("%s%s: Corrupted %s object; checksum expected='%s' actual='%s'", prefix, what, name.Type, name.Checksum, actual)
}

// contentActual hashes a content object the way package repo reads it.
func contentActual(t *testing.T, r *repo.Repo, name oid.ObjectName) oid.Checksum {
	t.Helper()
	c, err := r.OpenContent(context.Background(), name.Checksum)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var payload io.Reader = c
	if c.Header.IsSymlink() {
		payload = nil
	}
	sum, err := object.ContentChecksum(c.Header, payload)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// alterPayload gives a content object another payload, validly stored.
func alterPayload(path string) fix {
	return func(t *testing.T, r *repo.Repo, c oid.Checksum) []string {
		name := lookup(t, r, c, path)
		p := r.ObjectPath(name)
		if r.Mode() == repo.ModeArchive {
			old, err := r.OpenContent(context.Background(), name.Checksum)
			if err != nil {
				t.Fatal(err)
			}
			old.Close()
			payload := []byte("altered payload\n")
			var z bytes.Buffer
			zw, _ := flate.NewWriter(&z, 6)
			zw.Write(payload)
			zw.Close()
			writeKeepingXattrs(t, p, append(old.Header.ArchiveHeader(uint64(len(payload))), z.Bytes()...))
		} else {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-1] ^= 1
			writeKeepingXattrs(t, p, b)
		}
		return []string{corruptMsg(c, name, contentActual(t, r, name))}
	}
}

// writeKeepingXattrs rewrites a file in place (the inode and its xattrs,
// mode and owner stay).
func writeKeepingXattrs(t *testing.T, p string, b []byte) {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, st.Mode().Perm()|st.Mode()&(os.ModeSetuid|os.ModeSetgid))
}

// truncate cuts a content object's file to size bytes, or to half its
// size when size is 0; what the repository then reads decides the error.
func truncate(path string, size int64) fix {
	return func(t *testing.T, r *repo.Repo, c oid.Checksum) []string {
		name := lookup(t, r, c, path)
		if size == 0 {
			st, err := os.Stat(r.ObjectPath(name))
			if err != nil {
				t.Fatal(err)
			}
			size = st.Size() / 2
		}
		if err := os.Truncate(r.ObjectPath(name), size); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		f, err := r.OpenContent(ctx, name.Checksum)
		if err == nil {
			_, err = io.Copy(io.Discard, f)
			f.Close()
		}
		if err != nil {
			return []string{fmt.Sprintf("In commits %s: fsck content object %s: %v", c, name.Checksum, err)}
		}
		return []string{corruptMsg(c, name, contentActual(t, r, name))}
	}
}

// flipContent changes a byte in the middle of a content object's file.
func flipContent(path string) fix {
	return func(t *testing.T, r *repo.Repo, c oid.Checksum) []string {
		name := lookup(t, r, c, path)
		p := r.ObjectPath(name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x40
		writeKeepingXattrs(t, p, b)
		f, err := r.OpenContent(context.Background(), name.Checksum)
		if err == nil {
			_, err = io.Copy(io.Discard, f)
			f.Close()
		}
		if err != nil {
			return []string{fmt.Sprintf("In commits %s: fsck content object %s: %v", c, name.Checksum, err)}
		}
		return []string{corruptMsg(c, name, contentActual(t, r, name))}
	}
}

// flipMeta changes the last byte of a metadata object.
func flipMeta(path string) fix {
	return func(t *testing.T, r *repo.Repo, c oid.Checksum) []string {
		name := lookup(t, r, c, path)
		return flipObject(t, r, c, name)
	}
}

func flipObject(t *testing.T, r *repo.Repo, c oid.Checksum, name oid.ObjectName) []string {
	p := r.ObjectPath(name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	writeKeepingXattrs(t, p, b)
	actual := oid.Checksum(sha256Sum(b))
	msg := corruptMsg(c, name, actual)
	var decodeErr error
	switch name.Type {
	case oid.DirTree:
		_, decodeErr = object.UnmarshalDirTree(b)
	case oid.DirMeta:
		_, decodeErr = object.UnmarshalDirMeta(b)
	}
	_ = decodeErr // the checksum is checked first, as ostree does
	return []string{msg}
}

func missing(path string) fix {
	return func(t *testing.T, r *repo.Repo, c oid.Checksum) []string {
		name := lookup(t, r, c, path)
		if err := os.Remove(r.ObjectPath(name)); err != nil {
			t.Fatal(err)
		}
		return []string{fmt.Sprintf("Object missing in commits %s: %s", c, name)}
	}
}

// wrongXattr rewrites a bare-user object's user.ostreemeta with another
// mode, as if its permissions had been changed behind ostree's back.
func wrongXattr(path string) fix {
	return func(t *testing.T, r *repo.Repo, c oid.Checksum) []string {
		name := lookup(t, r, c, path)
		p := r.ObjectPath(name)
		buf := make([]byte, 1024)
		n, err := unix.Lgetxattr(p, "user.ostreemeta", buf)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := object.DecodeDirMetaLayout(buf[:n])
		if !ok {
			t.Fatal("user.ostreemeta does not decode")
		}
		m.Mode ^= 0o022
		if err := unix.Lsetxattr(p, "user.ostreemeta", m.Marshal(), 0); err != nil {
			t.Fatal(err)
		}
		return []string{corruptMsg(c, name, contentActual(t, r, name))}
	}
}

func problemTexts(res *Result) []string {
	var s []string
	for _, p := range res.Problems {
		s = append(s, p.Error())
	}
	return s
}

func run(t *testing.T, p string, opts Options) *Result {
	t.Helper()
	res, err := Run(context.Background(), openRepo(t, p), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// ostreeObjects is the number of objects `ostree fsck` verifies.
func ostreeObjects(t *testing.T, p string) int {
	out := repotest.Ostree(t, "fsck", "--repo="+p)
	m := regexp.MustCompile(`fsck objects \((\d+)/(\d+)\) 100%`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no object count in ostree's output:\n%s", out)
	}
	n, _ := strconv.Atoi(m[2])
	return n
}

func TestRunCleanReposAgreeWithOstree(t *testing.T) {
	repotest.NeedOstree(t)
	for _, mode := range []string{"archive", "bare-user", "bare-user-only", "bare"} {
		for _, byOstree := range []bool{true, false} {
			name := mode + "/grove"
			if byOstree {
				name = mode + "/ostree"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				p, _ := newRepo(t, mode, byOstree)
				for _, fast := range []bool{true, false} {
					res := run(t, p, Options{noFastPaths: !fast})
					if res.Err() != nil || len(res.Problems) > 0 || res.Commits != 1 {
						t.Fatalf("fast=%v: %v %q commits=%d", fast, res.Err(), problemTexts(res), res.Commits)
					}
					if want := ostreeObjects(t, p); res.Objects != want {
						t.Errorf("fast=%v: %d objects, ostree verifies %d", fast, res.Objects, want)
					}
				}
			})
		}
	}
}

func TestRunFindsCorruption(t *testing.T) {
	repotest.NeedOstree(t)
	cases := []struct {
		name     string
		mode     string
		byOstree bool
		fix      fix
	}{
		{"altered content", "archive", true, alterPayload("usr/bin/tool")},
		{"altered big content", "archive", true, alterPayload("big.bin")},
		{"altered content", "bare-user", true, alterPayload("usr/bin/tool")},
		{"altered big content", "bare-user", true, alterPayload("big.bin")},
		{"altered content", "bare", true, alterPayload("small.txt")},
		{"altered content", "bare-user-only", false, alterPayload("small.txt")},
		{"altered content", "bare-user", false, alterPayload("etc/os-release")},
		{"flipped mapped content", "archive", true, flipContent("random.bin")},
		{"flipped compressed content", "archive", false, flipContent("big.bin")},
		{"truncated mapped content", "archive", true, truncate("random.bin", 0)},
		{"flipped content", "bare-user", true, flipContent("random.bin")},
		{"truncated header", "archive", true, truncate("etc/os-release", 9)},
		{"truncated payload", "archive", true, truncate("big.bin", 0)},
		{"truncated content", "bare-user", true, truncate("big.bin", 0)},
		{"truncated symlink", "bare-user", true, truncate("bin", 2)},
		{"bad dirtree", "archive", true, flipMeta("usr/bin/")},
		{"bad dirtree", "bare-user", false, flipMeta("usr/share/doc/")},
		{"bad dirmeta", "bare-user", true, flipMeta("etc/private/.meta")},
		{"bad dirmeta", "archive", false, flipMeta("etc/private/.meta")},
		{"missing content", "archive", true, missing("usr/lib/withxattr")},
		{"missing symlink", "bare-user", true, missing("usr/bin/relative-link")},
		{"missing dirtree", "bare-user", true, missing("var/empty/nested/")},
		{"missing dirmeta", "archive", false, missing("etc/private/.meta")},
		{"wrong xattr", "bare-user", true, wrongXattr("usr/bin/tool")},
		{"wrong xattr on symlink", "bare-user", true, wrongXattr("dangling")},
	}
	for _, tc := range cases {
		t.Run(tc.mode+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			p, c := newRepo(t, tc.mode, tc.byOstree)
			want := tc.fix(t, openRepo(t, p), c)
			for _, fast := range []bool{true, false} {
				res := run(t, copyRepo(t, p), Options{All: true, noFastPaths: !fast})
				if got := problemTexts(res); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("fast=%v: problems\n%s\nwant\n%s", fast, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if !errorsIsCorruption(res.Err()) {
					t.Errorf("fast=%v: Err() = %v", fast, res.Err())
				}
				missingObj := strings.HasPrefix(want[0], "Object missing")
				if missingObj != (len(res.MarkedPartial) == 1) {
					t.Errorf("fast=%v: marked partial %v", fast, res.MarkedPartial)
				}
				// Without --all the first problem stops the run (a missing
				// object does not).
				res = run(t, copyRepo(t, p), Options{noFastPaths: !fast})
				if res.Stopped == missingObj || res.Problems[0].Error() != want[0] {
					t.Errorf("fast=%v: without --all: stopped=%v %q", fast, res.Stopped, problemTexts(res))
				}
			}
		})
	}
}

func errorsIsCorruption(err error) bool { return err == ErrCorruption }

func TestRunCommitProblems(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	t.Run("ref to a missing commit", func(t *testing.T) {
		p, c := newRepo(t, "archive", true)
		r := openRepo(t, p)
		os.Remove(r.ObjectPath(oid.ObjectName{Checksum: c, Type: oid.Commit}))
		res := run(t, p, Options{All: true})
		want := fmt.Sprintf("Loading commit for ref main: No such metadata object %s.commit", c)
		if !res.Stopped || len(res.Problems) != 1 || res.Err() == nil || res.Err().Error() != want {
			t.Errorf("%v %q", res.Stopped, problemTexts(res))
		}
	})
	t.Run("bad commit", func(t *testing.T) {
		p, c := newRepo(t, "bare-user", true)
		r := openRepo(t, p)
		want := flipObject(t, r, c, oid.ObjectName{Checksum: c, Type: oid.Commit})
		res := run(t, copyRepo(t, p), Options{})
		if !res.Stopped || len(res.Problems) != 1 || res.Problems[0].Error() != want[0] {
			t.Errorf("without --all: %q", problemTexts(res))
		}
		// With --all: once for the ref, then again when commits are
		// enumerated (it no longer decodes), as ostree does.
		_, lerr := r.LoadCommit(ctx, c)
		if lerr == nil {
			t.Fatal("flipped commit still decodes")
		}
		want = append(want, fmt.Sprintf("fsck %s.commit: %v", c, lerr))
		res = run(t, p, Options{All: true})
		if got := problemTexts(res); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("with --all: %q\nwant %q", got, want)
		}
	})
	t.Run("partial commit", func(t *testing.T) {
		p, c := newRepo(t, "bare-user", true)
		r := openRepo(t, p)
		if err := r.MarkPartial(c, true); err != nil {
			t.Fatal(err)
		}
		res := run(t, p, Options{})
		if res.Err() != nil || res.Partial != 1 || res.Commits != 0 || res.Objects != 0 {
			t.Errorf("%+v", res)
		}
		if err := r.MarkFsckPartial(c); err != nil {
			t.Fatal(err)
		}
		res = run(t, p, Options{})
		if res.Err() == nil || res.FsckPartial != 1 {
			t.Errorf("fsck-partial commit: %+v", res)
		}
	})
	t.Run("delete", func(t *testing.T) {
		p, c := newRepo(t, "archive", true)
		r := openRepo(t, p)
		want := alterPayload("usr/bin/tool")(t, r, c)
		name := lookup(t, r, c, "usr/bin/tool")
		res := run(t, p, Options{Delete: true})
		if got := problemTexts(res); len(got) != 1 || got[0] != want[0] {
			t.Errorf("%q", got)
		}
		if len(res.Deleted) != 1 || res.Deleted[0] != name || len(res.MarkedPartial) != 1 || res.MarkedPartial[0] != c {
			t.Errorf("deleted %v, partial %v", res.Deleted, res.MarkedPartial)
		}
		if ok, _ := r.HasObject(ctx, name); ok {
			t.Error("corrupt object still there")
		}
	})
}

// A repository with several problems at once reports the same, in the
// same order, whatever the number of workers and with or without the fast
// paths; without --all it always stops at the same (least) object.
func TestRunParallelReportsLikeSerial(t *testing.T) {
	repotest.NeedOstree(t)
	for _, mode := range []string{"archive", "bare-user"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			p, c := newRepo(t, mode, true)
			r := openRepo(t, p)
			var want []string
			for _, f := range []fix{
				alterPayload("usr/bin/tool"), alterPayload("big.bin"), truncate("etc/os-release", 9),
				flipMeta("usr/share/doc/"), missing("usr/lib/withxattr"), missing("etc/private/.meta"),
			} {
				want = append(want, f(t, r, c)...)
			}
			serial := run(t, copyRepo(t, p), Options{All: true, Workers: 1, noFastPaths: true})
			stopSerial := run(t, copyRepo(t, p), Options{Workers: 1, noFastPaths: true})
			if len(serial.Problems) != len(want) {
				t.Fatalf("serial run found %q, want %d problems", problemTexts(serial), len(want))
			}
			for _, workers := range []int{1, 2, 3, 8} {
				for range 3 {
					res := run(t, copyRepo(t, p), Options{All: true, Workers: workers})
					if strings.Join(problemTexts(res), "\n") != strings.Join(problemTexts(serial), "\n") ||
						fmt.Sprint(res.MarkedPartial) != fmt.Sprint(serial.MarkedPartial) || res.Objects != serial.Objects {
						t.Fatalf("%d workers:\n%s\nserial:\n%s", workers, strings.Join(problemTexts(res), "\n"), strings.Join(problemTexts(serial), "\n"))
					}
					res = run(t, copyRepo(t, p), Options{Workers: workers})
					if strings.Join(problemTexts(res), "\n") != strings.Join(problemTexts(stopSerial), "\n") || !res.Stopped {
						t.Fatalf("%d workers, no --all: %q, serial %q", workers, problemTexts(res), problemTexts(stopSerial))
					}
				}
			}
		})
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// A .filez that shrinks after it was sized is mapped past its end: the
// fault must only make the fast path give up (the general code reports).
func TestArchiveFastPathSurvivesShrunkMapping(t *testing.T) {
	repotest.NeedOstree(t)
	p, c := newRepo(t, "archive", true)
	r := openRepo(t, p)
	name := lookup(t, r, c, "random.bin")
	st, err := os.Stat(r.ObjectPath(name))
	if err != nil {
		t.Fatal(err)
	}
	fs := newFastStore(r, true)
	defer fs.close()
	ck := fs.newWorker()
	if !ck.fastContent(name, st.Size()) {
		t.Fatal("sound object refused")
	}
	if err := os.Truncate(r.ObjectPath(name), 4096); err != nil {
		t.Fatal(err)
	}
	if ck.fastContent(name, st.Size()) {
		t.Fatal("shrunk object accepted")
	}
}
