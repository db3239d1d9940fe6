package compose_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// TestArchiveCommitAroundInMemoryLimit commits files on both sides of the
// size up to which an archive commit reads a file once into memory (empty,
// one byte, 1 MiB ± 1, several MiB): the commit must be the one ostree
// writes for the same tree, and ostree must read back every object.
func TestArchiveCommitAroundInMemoryLimit(t *testing.T) {
	repotest.NeedOstree(t)
	dir := filepath.Join(t.TempDir(), "tree")
	const mib = 1 << 20
	for _, size := range []int{0, 1, mib - 1, mib, mib + 1, 3*mib + 7} {
		body := bytes.Repeat([]byte(fmt.Sprintf("%d bytes of text ", size)), size/8+1)[:size]
		repotest.WriteFile(t, filepath.Join(dir, fmt.Sprintf("f%d", size)), string(body), 0o644)
	}
	r, sum := commitArchiveLikeOstree(t, dir, nil)
	co := filepath.Join(t.TempDir(), "co")
	repotest.Ostree(t, "--repo="+r.Path(), "checkout", "-U", sum.String(), co)
	for _, e := range mustReadDir(t, dir) {
		a, _ := os.ReadFile(filepath.Join(dir, e))
		b, err := os.ReadFile(filepath.Join(co, e))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: ostree's checkout of grove's object differs (%v)", e, err)
		}
	}
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestArchiveCommitFlushesWhileLargeFileCompresses: when the small files
// are done while a large one is still being compressed, the objects
// written so far are moved into the repository early (Txn.Flush). The
// commit must still be ostree's, and ostree must accept the repository.
func TestArchiveCommitFlushesWhileLargeFileCompresses(t *testing.T) {
	repotest.NeedOstree(t)
	dir := filepath.Join(t.TempDir(), "tree")
	// Text that deflate has to work at: ~24 MiB of words in a
	// pseudo-random order, about a quarter of a second to compress.
	words := strings.Fields("ostree grove commit dirtree dirmeta archive deflate object checksum " +
		"checkout union hardlink deployment sysroot stateroot bootloader kernel initramfs")
	var big bytes.Buffer
	for x := uint32(1); big.Len() < 24<<20; {
		x = x*1664525 + 1013904223
		big.WriteString(words[x>>16%uint32(len(words))])
		big.WriteByte(" \n"[x>>8&1])
	}
	repotest.WriteFile(t, filepath.Join(dir, "big"), big.String(), 0o644)
	for i := range 400 {
		repotest.WriteFile(t, filepath.Join(dir, fmt.Sprintf("d%d/f%d", i%40, i)), fmt.Sprintf("small file %d\n", i), 0o644)
	}
	r, _ := commitArchiveLikeOstree(t, dir, func(tx *repo.Txn) {
		if n := tx.Stats().Flushed; n < 100 {
			t.Errorf("%d objects flushed while the large file compressed, want most of the 400 small ones", n)
		}
	})
	if ents, _ := os.ReadDir(r.TmpDir()); len(ents) != 1 {
		t.Errorf("tmp/ not clean after commit: %v", ents)
	}
}

// commitArchiveLikeOstree commits dir into a new archive repository
// (calling afterImport between the import and the commit object), checks
// that ostree writes the same commit for it and that ostree fsck accepts
// the repository.
func commitArchiveLikeOstree(t *testing.T, dir string, afterImport func(*repo.Txn)) (*repo.Repo, oid.Checksum) {
	t.Helper()
	ctx := context.Background()
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r := repotest.NewRepo(t, repo.ModeArchive)
	tx, err := r.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod := compose.NoModifier()
	mod.SkipXattrs = true
	root, err := compose.ImportDir(ctx, tx, dir, compose.ImportOptions{Modifier: mod})
	if err != nil {
		t.Fatal(err)
	}
	if afterImport != nil {
		afterImport(tx)
	}
	sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{Subject: "s", Timestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	ref := repotest.NewRepo(t, repo.ModeArchive)
	want := repotest.Ostree(t, "--repo="+ref.Path(), "commit", "--orphan", "--no-xattrs", "--no-bindings",
		"--tree=dir="+dir, "--timestamp=2024-01-01T00:00:00Z", "-s", "s")
	if got := sum.String(); got != strings.TrimSpace(want) {
		t.Errorf("grove commit %s, ostree commit %s", got, want)
	}
	repotest.Ostree(t, "--repo="+r.Path(), "fsck")
	return r, sum
}
