// Package deltatest builds the repositories static delta tests share: an
// ostree-made archive repository holding two commits whose trees differ
// in every way a delta handles (new, removed, unchanged, edited deep
// inside, edited at the start, renamed, symlinks, a large file), made
// with the real ostree binary. Tests only.
package deltatest

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/groveos/grove/core/repotest"
)

// Pair is an archive repository with branch "test" at From and then To.
type Pair struct {
	Repo           string // archive repository made by ostree
	From, To       string // commit checksums (hex)
	FromDir, ToDir string // the committed trees
}

// Binary returns n bytes of deterministic, code-like data (repetitive
// but not trivially compressible), seeded by seed.
func Binary(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	words := make([][]byte, 64)
	for i := range words {
		w := make([]byte, 4+r.IntN(12))
		for j := range w {
			w[j] = byte(r.IntN(256))
		}
		words[i] = w
	}
	for i := 0; i < n; {
		w := words[r.IntN(len(words))]
		i += copy(b[i:], w)
		if r.IntN(4) == 0 && i < n {
			b[i] = byte(r.IntN(256))
			i++
		}
	}
	return b
}

func write(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// Trees writes the FROM and TO trees into from and to. big is the size
// of a file present only in TO (0 for none).
func Trees(t testing.TB, from, to string, big int) {
	t.Helper()
	lib := Binary(1, 300<<10)
	tool := Binary(2, 120<<10)
	data := Binary(3, 80<<10)
	for _, d := range []string{from, to} {
		write(t, filepath.Join(d, "etc/os-release"), []byte("NAME=Test\n"), 0o644)
		write(t, filepath.Join(d, "usr/share/doc/README"), []byte("unchanged text\n"), 0o644)
		write(t, filepath.Join(d, "usr/share/empty"), nil, 0o644)
		if err := os.Symlink("../usr/lib", filepath.Join(d, "etc/lib-link")); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(from, "usr/lib/libfoo.so.1"), lib, 0o755)
	write(t, filepath.Join(from, "usr/bin/tool"), tool, 0o755)
	write(t, filepath.Join(from, "usr/share/data.bin"), data, 0o644)
	write(t, filepath.Join(from, "usr/share/removed"), []byte("going away\n"), 0o644)
	write(t, filepath.Join(from, "etc/version"), []byte("1.0\n"), 0o644)

	// libfoo: a few bytes changed deep inside (rollsum territory).
	lib2 := append([]byte(nil), lib...)
	for _, off := range []int{100 << 10, 200 << 10} {
		copy(lib2[off:], "PATCHED")
	}
	write(t, filepath.Join(to, "usr/lib/libfoo.so.1"), lib2, 0o755)
	// tool: a header prepended and scattered edits (bsdiff territory).
	tool2 := append([]byte("aheader\n"), tool...)
	for off := 1000; off < len(tool2); off += 7919 {
		tool2[off]++
	}
	write(t, filepath.Join(to, "usr/bin/tool"), tool2, 0o755)
	// data.bin: renamed with a version suffix and edited.
	data2 := append(append([]byte(nil), data[:40<<10]...), data[41<<10:]...)
	write(t, filepath.Join(to, "usr/share/data.bin.2"), data2, 0o644)
	write(t, filepath.Join(to, "usr/share/added"), []byte("new file\n"), 0o600)
	write(t, filepath.Join(to, "etc/version"), []byte("2.0\n"), 0o644)
	if err := os.Symlink("version", filepath.Join(to, "etc/version-link")); err != nil {
		t.Fatal(err)
	}
	if big > 0 {
		write(t, filepath.Join(to, "usr/share/big.img"), Binary(4, big), 0o644)
	}
}

// Commit commits dir to branch in repo with ostree, canonically owned,
// at a fixed time, and returns the checksum.
func Commit(t testing.TB, repo, branch, dir, ts string) string {
	t.Helper()
	return repotest.Ostree(t, "--repo="+repo, "commit", "-b", branch, "--owner-uid=0", "--owner-gid=0",
		"--no-xattrs", "--timestamp="+ts, "-s", "commit "+ts, "--tree=dir="+dir)
}

// NewPair makes the two trees and commits them to an ostree archive repo.
func NewPair(t testing.TB, big int) *Pair {
	t.Helper()
	repotest.NeedOstree(t)
	base := t.TempDir()
	p := &Pair{Repo: filepath.Join(base, "repo"), FromDir: filepath.Join(base, "from"), ToDir: filepath.Join(base, "to")}
	Trees(t, p.FromDir, p.ToDir, big)
	repotest.Ostree(t, "--repo="+p.Repo, "init", "--mode=archive")
	p.From = Commit(t, p.Repo, "test", p.FromDir, "2024-01-01T00:00:00Z")
	p.To = Commit(t, p.Repo, "test", p.ToDir, "2024-02-01T00:00:00Z")
	return p
}
