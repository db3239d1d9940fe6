package checkout_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"golang.org/x/sys/unix"
)

// dirAttrs maps each directory below root to its inode flags (lsattr) and
// mtime, the two things spreading touches on the way.
func dirAttrs(t *testing.T, root string) map[string][2]int64 {
	t.Helper()
	got := map[string][2]int64{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
		if err != nil {
			flags = 0 // a filesystem without inode flags
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		got[rel] = [2]int64{int64(flags), st.Mtim.Sec}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Checkouts mark the directories they create as tops of hierarchy while
// they run (ext4 then spreads their inodes): every directory must end with
// exactly the flags and mtime an ostree checkout gives it, read-only
// directories included, in fresh and union checkouts.
func TestSpreadingLeavesSameDirFlagsAndTimesAsOstree(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	src := richSource(t)
	r, commit := ostreeRepo(t, repo.ModeBareUser, src)
	for _, tc := range []struct {
		name  string
		flags []string
		opts  checkout.Options
		union bool
	}{
		{"user", []string{"-U"}, checkout.Options{User: true}, false},
		{"user-hardlinks", []string{"-U", "-H"}, checkout.Options{User: true, RequireHardlinks: true}, false},
		{"user-union", []string{"-U", "--union"}, checkout.Options{User: true, Mode: checkout.OverwriteUnion}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			g, o := base+"/grove", base+"/ostree"
			if tc.union {
				prepare(t, g+"/sub", o+"/sub")
			}
			if err := checkout.Checkout(ctx, r, commit, g, tc.opts); err != nil {
				t.Fatal(err)
			}
			repotest.Ostree(t, append(append([]string{"checkout", "--repo=" + r.Path()}, tc.flags...), commit.String(), o)...)
			repotest.SameTree(t, o, g)
			want, got := dirAttrs(t, o), dirAttrs(t, g)
			if len(got) != len(want) {
				t.Fatalf("%d directories, ostree has %d", len(got), len(want))
			}
			for rel, w := range want {
				if tc.union && (rel == "." || rel == "sub") && got[rel][0] == w[0] && got[rel][1]-w[1] >= -2 && got[rel][1]-w[1] <= 2 {
					continue // directories that existed get the mtime of the moment each tool wrote into them
				}
				if got[rel] != w {
					t.Errorf("%s: flags %#x mtime %d, ostree's %#x mtime %d", rel, got[rel][0], got[rel][1], w[0], w[1])
				}
			}
		})
	}
}

// On a filesystem without FS_TOPDIR_FL (tmpfs) the checkout is the same,
// hardlinks aside (tmpfs is another device, so files are copied).
func TestCheckoutOnFilesystemWithoutTopdirFlagMatchesOstree(t *testing.T) {
	repotest.NeedOstree(t)
	var sfs unix.Statfs_t
	if unix.Statfs("/dev/shm", &sfs) != nil || sfs.Type != unix.TMPFS_MAGIC || unix.Access("/dev/shm", unix.W_OK) != nil {
		t.Skip("no writable tmpfs at /dev/shm")
	}
	ctx := context.Background()
	r, commit := ostreeRepo(t, repo.ModeBareUser, richSource(t))
	g, err := os.MkdirTemp("/dev/shm", "grove-checkout-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(g) })
	o := t.TempDir() + "/ostree"
	if err := checkout.Checkout(ctx, r, commit, g+"/co", checkout.Options{User: true}); err != nil {
		t.Fatal(err)
	}
	repotest.Ostree(t, "checkout", "--repo="+r.Path(), "-U", commit.String(), o)
	repotest.SameTree(t, o, g+"/co")
	want, got := dirAttrs(t, o), dirAttrs(t, g+"/co")
	for rel, w := range want {
		if got[rel][1] != w[1] {
			t.Errorf("%s: mtime %d, ostree's %d", rel, got[rel][1], w[1])
		}
	}
}

// A checkout that fails half way leaves no directory marked as a top of
// hierarchy behind.
func TestFailedCheckoutLeavesNoTopdirFlag(t *testing.T) {
	ctx := context.Background()
	src := wideDeepTree(t)
	r, commit := groveRepo(t, repo.ModeBareUser, src)
	dest := t.TempDir() + "/co"
	repotest.WriteFile(t, dest+"/d1/d1/d0/d1/f0", "not what the commit has\n", 0o644)
	err := checkout.Checkout(ctx, r, commit, dest, checkout.Options{User: true, RequireHardlinks: true, Mode: checkout.OverwriteUnionIdentical})
	if !errors.Is(err, checkout.ErrNotIdentic) {
		t.Fatalf("got %v, want ErrNotIdentic", err)
	}
	for rel, a := range dirAttrs(t, dest) {
		if a[0]&0x00020000 != 0 {
			t.Errorf("%s still has FS_TOPDIR_FL", rel)
		}
	}
}
