package checkout_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"golang.org/x/sys/unix"
)

// groveRepo commits dir with grove into a new repository of mode m.
func groveRepo(t *testing.T, m repo.Mode, dir string) (*repo.Repo, oid.Checksum) {
	t.Helper()
	ctx := context.Background()
	r := repotest.NewRepo(t, m)
	tx, err := r.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root, err := compose.ImportDir(ctx, tx, dir, compose.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{Subject: "test", Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return r, sum
}

// ostreeRepo commits dir with the real ostree into a new repository.
func ostreeRepo(t *testing.T, m repo.Mode, dir string) (*repo.Repo, oid.Checksum) {
	t.Helper()
	p := t.TempDir() + "/repo"
	modeName := m.String()
	if m == repo.ModeArchive {
		modeName = "archive"
	}
	repotest.Ostree(t, "init", "--repo="+p, "--mode="+modeName)
	out := repotest.Ostree(t, "commit", "--repo="+p, "-b", "main", "-s", "test", "--tree=dir="+dir)
	r, err := repo.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return r, oid.MustParse(out)
}

func richSource(t *testing.T) string {
	src := t.TempDir() + "/src"
	repotest.RichTree(t, src)
	return src
}

type variant struct {
	name  string
	flags []string
	opts  checkout.Options
}

var variants = []variant{
	{"default", nil, checkout.Options{}},
	{"user", []string{"-U"}, checkout.Options{User: true}},
	{"force-copy", []string{"-C"}, checkout.Options{ForceCopy: true}},
	{"user-force-copy", []string{"-U", "-C"}, checkout.Options{User: true, ForceCopy: true}},
	{"require-hardlinks", []string{"-H"}, checkout.Options{RequireHardlinks: true}},
	{"user-require-hardlinks", []string{"-U", "-H"}, checkout.Options{User: true, RequireHardlinks: true}},
}

// canHardlink says whether ostree can do a -H checkout of this mode.
func canHardlink(m repo.Mode, user bool) bool {
	switch m {
	case repo.ModeBare:
		return !user
	case repo.ModeBareUser:
		return user
	case repo.ModeBareUserOnly:
		return true
	}
	return false
}

func ino(t *testing.T, p string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestCheckoutMatchesSourceAndOstreeInEveryModeAndVariant(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	src := richSource(t)
	writers := []struct {
		name string
		make func(*testing.T, repo.Mode, string) (*repo.Repo, oid.Checksum)
	}{{"grove", groveRepo}, {"ostree", ostreeRepo}}
	for _, w := range writers {
		for _, m := range repotest.Modes {
			t.Run(w.name+"/"+m.String(), func(t *testing.T) {
				r, commit := w.make(t, m, src)
				c, err := r.LoadCommit(ctx, commit)
				if err != nil {
					t.Fatal(err)
				}
				small, err := checkout.Resolve(ctx, r, c.RootTree, c.RootMeta, "/small.txt")
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range variants {
					t.Run(v.name, func(t *testing.T) {
						base := t.TempDir()
						g, o := base+"/grove", base+"/ostree"
						gerr := checkout.Checkout(ctx, r, commit, g, v.opts)
						args := append([]string{"checkout", "--repo=" + r.Path()}, v.flags...)
						oout, oerr := repotest.OstreeErr(t, append(args, commit.String(), o)...)
						if v.opts.RequireHardlinks && !canHardlink(m, v.opts.User) {
							if gerr == nil || oerr == nil {
								t.Fatalf("-H must fail in %s: grove %v, ostree %v", m, gerr, oerr)
							}
							if !errors.Is(gerr, checkout.ErrHardlink) {
								t.Fatalf("grove error %v is not ErrHardlink", gerr)
							}
							return
						}
						if gerr != nil {
							t.Fatalf("grove checkout: %v", gerr)
						}
						if oerr != nil {
							t.Fatalf("ostree checkout: %v\n%s", oerr, oout)
						}
						repotest.SameTree(t, o, g)
						user := v.opts.User || m == repo.ModeBareUserOnly
						if !user {
							repotest.SameTree(t, src, g)
						}
						linked := ino(t, g+"/small.txt") == ino(t, r.ObjectPath(oid.ObjectName{Checksum: small.File, Type: oid.File}))
						wantLinked := canHardlink(m, user) && !v.opts.ForceCopy
						if linked != wantLinked {
							t.Errorf("small.txt hardlinked=%v, want %v", linked, wantLinked)
						}
					})
				}
			})
		}
	}
}

func TestSubpathDirAndFileMatchOstree(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	src := richSource(t)
	for _, m := range []repo.Mode{repo.ModeArchive, repo.ModeBare} {
		r, commit := groveRepo(t, m, src)
		for _, sub := range []string{"/usr/bin", "/etc/os-release", "usr/share/doc"} {
			base := t.TempDir()
			g, o := base+"/g", base+"/o"
			if err := checkout.Checkout(ctx, r, commit, g, checkout.Options{Subpath: sub}); err != nil {
				t.Fatalf("%s %s: %v", m, sub, err)
			}
			repotest.Ostree(t, "checkout", "--repo="+r.Path(), "--subpath="+sub, commit.String(), o)
			repotest.SameTree(t, o, g)
		}
		// Paths resolve as ostree resolves them: ".." and "//" are no
		// shortcuts, and a trailing "/" names an empty component.
		for _, sub := range []string{"usr/../usr", "/usr//bin", "usr/", "/usr/bin"} {
			err := checkout.Checkout(ctx, r, commit, t.TempDir()+"/y", checkout.Options{Subpath: sub})
			_, oerr := repotest.OstreeErr(t, "checkout", "--repo="+r.Path(), "--subpath="+sub, commit.String(), t.TempDir()+"/y")
			if (err == nil) != (oerr == nil) {
				t.Errorf("subpath %q: grove %v, ostree %v", sub, err, oerr)
			}
		}
		err := checkout.Checkout(ctx, r, commit, t.TempDir()+"/x", checkout.Options{Subpath: "/no/such"})
		// ostree names the first component that is missing.
		if !errors.Is(err, checkout.ErrNotFound) || err.Error() != "No such file or directory: /no" {
			t.Fatalf("missing subpath: %v", err)
		}
		if err := checkout.Checkout(ctx, r, commit, t.TempDir()+"/x", checkout.Options{Subpath: "/no/such", AllowNoent: true}); err != nil {
			t.Fatalf("allow-noent: %v", err)
		}
	}
}

func TestCheckoutIntoExistingDestFailsWithoutUnion(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	r, commit := groveRepo(t, repo.ModeArchive, richSource(t))
	dest := t.TempDir()
	repotest.WriteFile(t, dest+"/keep", "x", 0o644)
	err := checkout.Checkout(ctx, r, commit, dest, checkout.Options{})
	if !errors.Is(err, checkout.ErrExists) || !strings.Contains(err.Error(), dest) {
		t.Fatalf("got %v, want ErrExists naming %s", err, dest)
	}
	if out, err := repotest.OstreeErr(t, "checkout", "--repo="+r.Path(), commit.String(), dest); err == nil {
		t.Fatalf("ostree accepted an existing destination: %s", out)
	}
}

// prepare makes the same pre-existing content in two destinations.
func prepare(t *testing.T, dirs ...string) {
	for _, d := range dirs {
		repotest.WriteFile(t, d+"/small.txt", "changed\n", 0o644)
		repotest.WriteFile(t, d+"/extra", "extra\n", 0o600)
		repotest.WriteFile(t, d+"/usr/bin/tool", "old tool\n", 0o755)
		if err := os.Symlink("old-target", d+"/dangling"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnionAndUnionAddMatchOstree(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	src := richSource(t)
	for _, m := range []repo.Mode{repo.ModeArchive, repo.ModeBare, repo.ModeBareUser} {
		r, commit := groveRepo(t, m, src)
		for _, tc := range []struct {
			flag string
			mode checkout.Overwrite
		}{{"--union", checkout.OverwriteUnion}, {"--union-add", checkout.OverwriteUnionAdd}} {
			base := t.TempDir()
			g, o := base+"/g", base+"/o"
			prepare(t, g, o)
			if err := checkout.Checkout(ctx, r, commit, g, checkout.Options{Mode: tc.mode}); err != nil {
				t.Fatalf("%s %s: %v", m, tc.flag, err)
			}
			repotest.Ostree(t, "checkout", "--repo="+r.Path(), tc.flag, commit.String(), o)
			repotest.SameTree(t, o, g)
			b, _ := os.ReadFile(g + "/small.txt")
			want := "hello\n"
			if tc.mode == checkout.OverwriteUnionAdd {
				want = "changed\n"
			}
			if string(b) != want {
				t.Errorf("%s %s: small.txt = %q, want %q", m, tc.flag, b, want)
			}
			if _, err := os.Stat(g + "/extra"); err != nil {
				t.Errorf("%s %s: extra file not kept: %v", m, tc.flag, err)
			}
			if _, err := os.Stat(g + "/big.bin"); err != nil {
				t.Errorf("%s %s: new file not added: %v", m, tc.flag, err)
			}
		}
	}
}

func TestUnionIdenticalPassesOnIdenticalFailsOnConflict(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	src := richSource(t)
	for _, m := range []repo.Mode{repo.ModeBare, repo.ModeBareUser} {
		r, commit := groveRepo(t, m, src)
		user := m == repo.ModeBareUser
		opts := checkout.Options{User: user, RequireHardlinks: true, Mode: checkout.OverwriteUnionIdentical}
		flags := []string{"checkout", "--repo=" + r.Path(), "-H", "--union-identical"}
		if user {
			flags = append(flags, "-U")
		}
		dest := t.TempDir() + "/d"
		if err := checkout.Checkout(ctx, r, commit, dest, opts); err != nil {
			t.Fatalf("%s first: %v", m, err)
		}
		if err := checkout.Checkout(ctx, r, commit, dest, opts); err != nil {
			t.Fatalf("%s over identical: %v", m, err)
		}
		repotest.Ostree(t, append(flags, commit.String(), dest)...)

		// A copy with identical content and metadata is identical too.
		os.Remove(dest + "/small.txt")
		repotest.WriteFile(t, dest+"/small.txt", "hello\n", 0o644)
		if !user {
			if err := checkout.Checkout(ctx, r, commit, dest, opts); err != nil {
				t.Fatalf("%s over identical copy: %v", m, err)
			}
		}

		os.Remove(dest + "/small.txt")
		repotest.WriteFile(t, dest+"/small.txt", "different\n", 0o644)
		err := checkout.Checkout(ctx, r, commit, dest, opts)
		if !errors.Is(err, checkout.ErrNotIdentic) || !strings.Contains(err.Error(), "small.txt") {
			t.Fatalf("%s conflict: got %v, want ErrNotIdentic naming small.txt", m, err)
		}
		if out, err := repotest.OstreeErr(t, append(flags, commit.String(), dest)...); err == nil {
			t.Fatalf("ostree accepted a conflict: %s", out)
		}
	}
}

func TestWhiteoutsMatchOstree(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	base := richSource(t)
	layer := t.TempDir() + "/layer"
	repotest.WriteFile(t, layer+"/.wh.small.txt", "", 0o644)
	repotest.WriteFile(t, layer+"/usr/.wh.bin", "", 0o644)
	repotest.WriteFile(t, layer+"/etc/.wh..wh..opq", "", 0o644)
	repotest.WriteFile(t, layer+"/etc/new.conf", "new\n", 0o644)
	repotest.WriteFile(t, layer+"/added", "added\n", 0o644)
	for _, m := range []repo.Mode{repo.ModeArchive, repo.ModeBare} {
		r, c1 := groveRepo(t, m, base)
		_, c2 := func() (*repo.Repo, oid.Checksum) {
			tx, err := r.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			root, err := compose.ImportDir(ctx, tx, layer, compose.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{Subject: "layer", Branch: "layer"})
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			return r, sum
		}()
		d := t.TempDir()
		g, o := d+"/g", d+"/o"
		if err := checkout.Checkout(ctx, r, c1, g, checkout.Options{}); err != nil {
			t.Fatal(err)
		}
		if err := checkout.Checkout(ctx, r, c2, g, checkout.Options{Mode: checkout.OverwriteUnion, Whiteouts: true}); err != nil {
			t.Fatalf("%s whiteouts: %v", m, err)
		}
		repotest.Ostree(t, "checkout", "--repo="+r.Path(), c1.String(), o)
		repotest.Ostree(t, "checkout", "--repo="+r.Path(), "--union", "--whiteouts", c2.String(), o)
		repotest.SameTree(t, o, g)
		for _, gone := range []string{"small.txt", "usr/bin", "etc/os-release"} {
			if _, err := os.Lstat(filepath.Join(g, gone)); !os.IsNotExist(err) {
				t.Errorf("%s: %s survived its whiteout (%v)", m, gone, err)
			}
		}
	}
}

func TestCancelledContextStopsCheckout(t *testing.T) {
	r, commit := groveRepo(t, repo.ModeArchive, richSource(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := checkout.Checkout(ctx, r, commit, t.TempDir()+"/d", checkout.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestProgressCountsEveryFile(t *testing.T) {
	r, commit := groveRepo(t, repo.ModeBare, richSource(t))
	var last checkout.Stats
	var final progress.Event
	err := checkout.Checkout(context.Background(), r, commit, t.TempDir()+"/d", checkout.Options{
		Stats:    &last,
		Progress: func(e progress.Event) { final = e },
	})
	if err != nil {
		t.Fatal(err)
	}
	if last.Files == 0 || last.Files != last.Linked+last.Copied || last.Dirs == 0 {
		t.Fatalf("stats %+v", last)
	}
	if !final.Final || final.Done != last.Files+last.Dirs || final.Phase != checkout.PhaseCheckout {
		t.Fatalf("last event %+v, stats %+v", final, last)
	}
}

func TestArchiveUserCheckoutLinksFromOstreeUncompressedCache(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	r, commit := groveRepo(t, repo.ModeArchive, richSource(t))
	d := t.TempDir()
	// A plain `ostree checkout -U` fills uncompressed-objects-cache/.
	repotest.Ostree(t, "checkout", "--repo="+r.Path(), "-U", commit.String(), d+"/o")
	opts := checkout.Options{User: true, UseUncompressedCache: true}
	if err := checkout.Checkout(ctx, r, commit, d+"/g", opts); err != nil {
		t.Fatal(err)
	}
	repotest.SameTree(t, d+"/o", d+"/g")
	if ino(t, d+"/g/big.bin") != ino(t, d+"/o/big.bin") {
		t.Error("big.bin not hardlinked from the uncompressed cache")
	}
	opts.UseUncompressedCache = false
	if err := checkout.Checkout(ctx, r, commit, d+"/g2", opts); err != nil {
		t.Fatal(err)
	}
	if ino(t, d+"/g2/big.bin") == ino(t, d+"/o/big.bin") {
		t.Error("cache used although disabled")
	}
}
