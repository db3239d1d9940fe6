package trial

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// commitDirs commits each directory in turn on one branch.
func commitDirs(t *testing.T, r *repo.Repo, dirs []string) []oid.Checksum {
	t.Helper()
	var out []oid.Checksum
	for i, d := range dirs {
		res, err := compose.Commit(context.Background(), r, compose.Spec{
			Branch: "test", Subject: "state " + string(rune('a'+i)), Timestamp: time.Unix(1700000000+int64(i), 0),
			Trees: []compose.TreeSource{{Kind: "dir", Arg: d}},
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Commit)
	}
	return out
}

// variedTrees writes five trees that differ in every way a tree can: files
// added, removed, modified and chmodded, a file becoming a directory and
// back, a directory removed whole and one added with depth, symlinks
// retargeted, read-only directories, a root with a new mode.
func variedTrees(t *testing.T) []string {
	t.Helper()
	base := t.TempDir()
	var dirs []string
	for i := 0; i < 5; i++ {
		d := filepath.Join(base, string(rune('a'+i)))
		repotest.RichTree(t, d)
		dirs = append(dirs, d)
	}
	w := func(d, p, c string, m os.FileMode) { repotest.WriteFile(t, filepath.Join(d, p), c, m) }
	// b: edits
	w(dirs[1], "small.txt", "changed\n", 0o644)
	w(dirs[1], "usr/bin/tool", "#!/bin/sh\necho tool 2\n", 0o755)
	os.Chmod(filepath.Join(dirs[1], "etc/secret"), 0o640)
	os.RemoveAll(filepath.Join(dirs[1], "var/empty"))
	w(dirs[1], "opt/new/deep/er/file", "deep\n", 0o644)
	// c: a file becomes a directory, a symlink moves, a read-only dir
	os.Remove(filepath.Join(dirs[2], "empty"))
	w(dirs[2], "empty/now-a-dir", "x\n", 0o644)
	os.Remove(filepath.Join(dirs[2], "dangling"))
	os.Symlink("elsewhere", filepath.Join(dirs[2], "dangling"))
	w(dirs[2], "ro/inside", "ro\n", 0o644)
	os.Chmod(filepath.Join(dirs[2], "ro"), 0o555)
	// d: a directory becomes a file, the read-only dir changes inside
	os.RemoveAll(filepath.Join(dirs[3], "etc/private"))
	w(dirs[3], "etc/private", "now a file\n", 0o600)
	w(dirs[3], "ro/inside", "ro 2\n", 0o644)
	w(dirs[3], "ro/added", "added\n", 0o644)
	os.Chmod(filepath.Join(dirs[3], "ro"), 0o555)
	os.Chmod(dirs[3], 0o750)
	// e: a lot removed
	os.RemoveAll(filepath.Join(dirs[4], "usr"))
	os.Remove(filepath.Join(dirs[4], "big.bin"))
	return dirs
}

// TestIncrementalMatchesFresh moves one scratch tree between commits in a
// bisect's jumping order and checks after each move that it equals a
// fresh checkout of the commit, and that the moves after the first were
// incremental.
func TestIncrementalMatchesFresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, mode := range []repo.Mode{repo.ModeBareUser, repo.ModeBare} {
		r := repotest.NewRepo(t, mode)
		commits := commitDirs(t, r, variedTrees(t))
		dir := t.TempDir()
		tr, err := newScratch(r, dir, false)
		if err != nil {
			t.Fatal(err)
		}
		for step, i := range []int{0, 4, 1, 3, 2, 0, 2, 4, 3, 1, 1} {
			st, err := tr.moveTo(ctx, commits[i])
			if err != nil {
				t.Fatalf("%s: step %d (commit %d): %v", mode, step, i, err)
			}
			if step > 0 && !st.Incremental {
				t.Errorf("%s: step %d was not incremental", mode, step)
			}
			fresh := filepath.Join(t.TempDir(), "fresh")
			if err := checkout.Checkout(ctx, r, commits[i], fresh, checkout.Options{User: mode != repo.ModeBare || os.Getuid() != 0}); err != nil {
				t.Fatal(err)
			}
			repotest.SameTree(t, fresh, tr.root())
		}
		// A new Trial on the same directory takes the tree over; one
		// whose marker is gone checks out afresh.
		tr2, err := newScratch(r, dir, false)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := tr2.moveTo(ctx, commits[2]); err != nil || !st.Incremental || st.Changed == 0 {
			t.Errorf("%s: reopened trial: %v, %+v", mode, err, st)
		}
		os.Remove(filepath.Join(dir, "tree.commit"))
		tr3, _ := newScratch(r, dir, false)
		if st, err := tr3.moveTo(ctx, commits[0]); err != nil || st.Incremental {
			t.Errorf("%s: trial without a marker: %v, %+v", mode, err, st)
		}
	}
}
