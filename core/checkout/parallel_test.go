package checkout_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// wideDeepTree writes a tree where the parallel scheduling has room to go
// wrong: hundreds of directories up to six deep, read-only and
// sticky ones holding files and subdirectories, one directory split over
// several file tasks, symlinks, empty directories and empty files.
func wideDeepTree(t *testing.T) string {
	t.Helper()
	src := t.TempDir() + "/src"
	var walk func(dir string, depth int)
	n := 0
	walk = func(dir string, depth int) {
		n++
		for i := range 3 + depth%3 {
			repotest.WriteFile(t, fmt.Sprintf("%s/f%d", dir, i), fmt.Sprintf("%s %d\n", dir, i%2), 0o644)
		}
		if err := os.Symlink("f0", dir+"/link"); err != nil {
			t.Fatal(err)
		}
		repotest.WriteFile(t, dir+"/empty", "", 0o600)
		if depth == 6 {
			return
		}
		for i := range 2 + depth%2 {
			walk(fmt.Sprintf("%s/d%d", dir, i), depth+1)
		}
	}
	walk(src, 1)
	for i := range 700 { // more than one task's worth of files
		repotest.WriteFile(t, fmt.Sprintf("%s/d0/many/%04d", src, i), fmt.Sprint(i%7), 0o755)
	}
	// Read-only and odd modes last, once everything below exists.
	for _, c := range []struct {
		dir  string
		mode os.FileMode
	}{{"d0/d1/d0", 0o555}, {"d1/d0", 0o500}, {"d1/d1/d1", 0o1777}, {"d0/many", 0o555}, {"d0", 0o750}} {
		if err := os.Chmod(src+"/"+c.dir, c.mode); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d directories", n)
	return src
}

// The parallel checkout (subtrees on every worker, directories finished
// by whichever worker completes their last entry) gives ostree's tree,
// directory mtimes and flags included, linking and copying, with many
// more workers than cores.
func TestParallelCheckoutOfWideDeepTreeMatchesOstree(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	src := wideDeepTree(t)
	for _, tc := range []struct {
		mode  repo.Mode
		flags []string
		opts  checkout.Options
	}{
		{repo.ModeBareUser, []string{"-U", "-H"}, checkout.Options{User: true, RequireHardlinks: true}},
		{repo.ModeArchive, []string{"-U"}, checkout.Options{User: true}},
		{repo.ModeBare, nil, checkout.Options{}},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			r, commit := ostreeRepoNoFsync(t, tc.mode, src)
			base := t.TempDir()
			o := base + "/ostree"
			repotest.Ostree(t, append(append([]string{"checkout", "--repo=" + r.Path()}, tc.flags...), commit.String(), o)...)
			want := dirAttrs(t, o)
			for _, workers := range []int{0, 16} {
				g := fmt.Sprintf("%s/grove-%d", base, workers)
				opts := tc.opts
				opts.Workers = workers
				if err := checkout.Checkout(ctx, r, commit, g, opts); err != nil {
					t.Fatal(err)
				}
				repotest.SameTree(t, o, g)
				got := dirAttrs(t, g)
				if len(got) != len(want) {
					t.Fatalf("%d directories, ostree has %d", len(got), len(want))
				}
				for rel, w := range want {
					if got[rel] != w {
						t.Errorf("workers %d: %s: flags %#x mtime %d, ostree's %#x mtime %d", workers, rel, got[rel][0], got[rel][1], w[0], w[1])
					}
				}
			}
		})
	}
}

// ostreeRepoNoFsync is ostreeRepo without the fsync of every object (which
// is most of the time of committing a tree this size).
func ostreeRepoNoFsync(t *testing.T, m repo.Mode, dir string) (*repo.Repo, oid.Checksum) {
	t.Helper()
	p := t.TempDir() + "/repo"
	modeName := m.String()
	if m == repo.ModeArchive {
		modeName = "archive"
	}
	repotest.Ostree(t, "init", "--repo="+p, "--mode="+modeName)
	out := repotest.Ostree(t, "commit", "--repo="+p, "--fsync=false", "-b", "main", "-s", "test", "--tree=dir="+dir)
	r, err := repo.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return r, oid.MustParse(out)
}
