package checkout_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"golang.org/x/sys/unix"
)

// linkedness maps each regular file below root to whether it is a
// hardlink (nlink > 1). Two checkouts of one repository link the same
// objects, so a file linked in both has one inode and one count.
func linkedness(t *testing.T, root string) map[string]uint64 {
	t.Helper()
	got := map[string]uint64{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		got[rel] = uint64(st.Nlink)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Every file is hardlinked or copied exactly where ostree does it: empty
// files and user-unreadable ones are copied, bare-user symlinks made anew,
// and a file whose user.ostreemeta outgrows the first read buffer (large
// xattrs) is still linked.
func TestEveryFileLinkedOrCopiedLikeOstree(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	src := richSource(t)
	big := make([]byte, 2000)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	repotest.WriteFile(t, src+"/usr/lib/bigxattr", "big xattr\n", 0o644)
	if err := unix.Setxattr(src+"/usr/lib/bigxattr", "user.big", big, 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	repotest.WriteFile(t, src+"/usr/lib/empty-exec", "", 0o755)
	repotest.WriteFile(t, src+"/usr/lib/unreadable", "no\n", 0o200)
	for _, m := range []repo.Mode{repo.ModeBareUser, repo.ModeBareUserOnly, repo.ModeBare} {
		for _, v := range []variant{
			{"user", []string{"-U"}, checkout.Options{User: true}},
			{"user-require-hardlinks", []string{"-U", "-H"}, checkout.Options{User: true, RequireHardlinks: true}},
		} {
			t.Run(m.String()+"/"+v.name, func(t *testing.T) {
				if v.opts.RequireHardlinks && !canHardlink(m, true) {
					t.Skip("no -U -H checkout from this mode")
				}
				r, commit := ostreeRepo(t, m, src)
				base := t.TempDir()
				g, o := base+"/grove", base+"/ostree"
				if err := checkout.Checkout(ctx, r, commit, g, v.opts); err != nil {
					t.Fatal(err)
				}
				repotest.Ostree(t, append(append([]string{"checkout", "--repo=" + r.Path()}, v.flags...), commit.String(), o)...)
				repotest.SameTree(t, o, g)
				want, got := linkedness(t, o), linkedness(t, g)
				for rel, w := range want {
					if got[rel] != w {
						t.Errorf("%s: nlink %d, ostree's %d", rel, got[rel], w)
					}
				}
				if want["usr/lib/bigxattr"] < 2 && m == repo.ModeBareUser {
					t.Errorf("ostree did not link bigxattr: the test proves nothing")
				}
			})
		}
	}
}
