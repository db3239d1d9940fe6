// Package bisecttest builds the histories bisect's tests and bench run
// on: a linear chain of commits of a small tree in which one file changes
// behaviour at a chosen commit, written in one transaction through
// core/compose without fsync, so that a thousand commits take a blink.
// It is for tests and benchmarks only.
package bisecttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Paths inside every tree of a History (under Options.Prefix when set).
const (
	// BehaviourPath holds "ok\n" before the first bad commit and
	// "broken\n" from it on.
	BehaviourPath = "etc/behaviour"
	// UntestablePath exists in untestable commits only.
	UntestablePath = "etc/untestable"
	// BuildPath holds the commit's index, so every commit differs.
	BuildPath = "etc/build"
)

// OSPrefix is a Prefix for trees that ostree deploys (which must not have
// both /etc and /usr/etc); the checker looks there too.
const OSPrefix = "usr/share/bisect"

// Options describe a history.
type Options struct {
	// N commits, oldest first; Commits[0] is a root commit.
	N int
	// K is the index of the first commit whose behaviour is broken
	// (N or more: none is).
	K int
	// Untestable indexes carry UntestablePath.
	Untestable []int
	// Ref is pointed at the newest commit ("" for none).
	Ref string
	// Files are extra files in every tree (path → content, mode 0755 for
	// paths under usr/bin, 0644 otherwise).
	Files map[string][]byte
	// Filler is the number of small data files in usr/share/data (one of
	// which changes with every commit), for a tree with some bulk.
	Filler int
	// Packages, when set, writes var/lib/dpkg/status for commit i from
	// Packages(i) (package name → version).
	Packages func(i int) map[string]string
	// Prefix, when set, replaces the "etc" of BehaviourPath, BuildPath and
	// UntestablePath (OSPrefix for deployable trees).
	Prefix string
}

// Path is where p (one of the *Path constants) is in this history's trees.
func (o Options) Path(p string) string {
	if o.Prefix == "" {
		return p
	}
	return o.Prefix + "/" + filepath.Base(p)
}

// History is what Build wrote.
type History struct {
	Commits []oid.Checksum
	Opts    Options
}

// Index is the position of c in Commits, -1 if absent.
func (h *History) Index(c oid.Checksum) int {
	for i, x := range h.Commits {
		if x == c {
			return i
		}
	}
	return -1
}

// Version is the ostree.version of commit i.
func Version(i int) string { return fmt.Sprintf("1.0.%d", i) }

// Subject is the subject of commit i.
func Subject(i int) string { return fmt.Sprintf("build %d", i) }

// Build writes the history into r in one transaction, with fsync off for
// this handle.
func Build(ctx context.Context, r *repo.Repo, o Options) (*History, error) {
	r.SetDisableFsync(true)
	tx, err := r.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Abort()
	dm := &object.DirMeta{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Mode: 0o40755}
	dirMeta, err := tx.WriteMeta(ctx, oid.DirMeta, dm.Marshal())
	if err != nil {
		return nil, err
	}
	put := func(t *compose.Tree, path string, data []byte) error {
		mode := uint32(0o644)
		if filepath.Dir(path) == "usr/bin" {
			mode = 0o755
		}
		hdr := &object.FileHeader{Mode: 0o100000 | mode, UID: dm.UID, GID: dm.GID}
		sum, err := tx.WriteContent(ctx, hdr, bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return fmt.Errorf("bisecttest: %s: %w", path, err)
		}
		dir := t
		parts := compose.SplitPath(path)
		for _, p := range parts[:len(parts)-1] {
			if dir, err = dir.EnsureDir(ctx, r, p, dirMeta, false); err != nil {
				return err
			}
		}
		return dir.SetFile(ctx, r, parts[len(parts)-1], sum)
	}
	root := compose.NewTree(dirMeta)
	names := make([]string, 0, len(o.Files))
	for p := range o.Files {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		if err := put(root, p, o.Files[p]); err != nil {
			return nil, err
		}
	}
	for j := 0; j < o.Filler; j++ {
		if err := put(root, fmt.Sprintf("usr/share/data/file-%03d", j), []byte(fmt.Sprintf("data %d\n", j))); err != nil {
			return nil, err
		}
	}
	untestable := map[int]bool{}
	for _, u := range o.Untestable {
		untestable[u] = true
	}
	h := &History{Opts: o}
	var parent oid.Checksum
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < o.N; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		behaviour := "ok\n"
		if i >= o.K {
			behaviour = "broken\n"
		}
		if err := put(root, o.Path(BehaviourPath), []byte(behaviour)); err != nil {
			return nil, err
		}
		if err := put(root, o.Path(BuildPath), []byte(strconv.Itoa(i)+"\n")); err != nil {
			return nil, err
		}
		if untestable[i] {
			if err := put(root, o.Path(UntestablePath), []byte("cannot test this one\n")); err != nil {
				return nil, err
			}
		} else if dir, err := root.Walk(ctx, r, filepath.Dir(o.Path(UntestablePath))); err == nil {
			if _, err := dir.Remove(ctx, r, filepath.Base(UntestablePath)); err != nil {
				return nil, err
			}
		}
		if o.Filler > 0 {
			if err := put(root, fmt.Sprintf("usr/share/data/file-%03d", i%o.Filler), []byte(fmt.Sprintf("data %d rev %d\n", i%o.Filler, i))); err != nil {
				return nil, err
			}
		}
		if o.Packages != nil {
			if err := put(root, "var/lib/dpkg/status", StatusFile(o.Packages(i))); err != nil {
				return nil, err
			}
		}
		sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{
			Subject:   Subject(i),
			Parent:    parent,
			Timestamp: base.Add(time.Duration(i) * time.Hour),
			Metadata:  []gvariant.DictEntry{{Key: object.MetaVersion, Value: gvariant.NewVariant("s", Version(i))}},
		})
		if err != nil {
			return nil, err
		}
		h.Commits = append(h.Commits, sum)
		parent = sum
	}
	if o.Ref != "" && len(h.Commits) > 0 {
		if err := tx.SetRef("", o.Ref, parent); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// StatusFile renders a dpkg status database with the packages given
// (name → version; a name "pkg:arch" sets the architecture), sorted by
// name as dpkg writes it.
func StatusFile(pkgs map[string]string) []byte {
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		name, arch := n, "amd64"
		if i := bytes.IndexByte([]byte(n), ':'); i >= 0 {
			name, arch = n[:i], n[i+1:]
		}
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nPriority: optional\nSection: misc\nInstalled-Size: 12\nMaintainer: Grove Tests <tests@example.org>\nArchitecture: %s\nVersion: %s\nDescription: test package %s\n a package for grove's tests\n\n", name, arch, pkgs[n], name)
	}
	return b.Bytes()
}

// CheckerPath is where trees built with Checker carry the checker.
const CheckerPath = "usr/bin/bisect-check"

var checkerMu sync.Mutex

// Checker builds the checker program (./checker) as a static binary and
// returns its bytes, for Options.Files[CheckerPath]. The binary is kept
// in the temporary directory under the hash of its source, so a test
// process builds it once.
func Checker(t testing.TB) []byte {
	t.Helper()
	checkerMu.Lock()
	defer checkerMu.Unlock()
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)
	src, err := os.ReadFile(filepath.Join(dir, "checker", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(os.TempDir(), fmt.Sprintf("grove-bisect-checker-%x", sha256.Sum256(src)))
	if b, err := os.ReadFile(out); err == nil {
		return b
	}
	tmp := fmt.Sprintf("%s.%d", out, os.Getpid())
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, "./checker")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the checker: %v\n%s", err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
