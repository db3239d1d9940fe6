package compose_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// TestDevInoReusesOnlyUnchangedHardlinks re-imports a bare-user checkout
// after replacing one file by rename and adding another: the devino cache
// answers exactly for the files still hardlinked to their objects (the
// Reused counter), the two others are read and written, and every reused
// file keeps its original checksum.
func TestDevInoReusesOnlyUnchangedHardlinks(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeBareUser)
	src := filepath.Join(t.TempDir(), "src")
	names := []string{"a", "b", "c", "d", "e"}
	for _, n := range names {
		repotest.WriteFile(t, filepath.Join(src, "dir", n), "content of "+n+"\n", 0o644)
	}

	importDir := func(dir string, mod *compose.Modifier) (*compose.Tree, compose.ImportStats, oid.Checksum) {
		t.Helper()
		tx, err := r.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var last compose.ImportStats
		root, err := compose.ImportDir(ctx, tx, dir, compose.ImportOptions{Modifier: mod, Stats: &last})
		if err != nil {
			tx.Abort()
			t.Fatal(err)
		}
		sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{Subject: "s"})
		if err != nil {
			tx.Abort()
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return root, last, sum
	}
	fileSum := func(root *compose.Tree, name string) oid.Checksum {
		t.Helper()
		d, err := root.Subdir(ctx, r, "dir")
		if err != nil {
			t.Fatal(err)
		}
		s, ok, err := d.File(ctx, r, name)
		if err != nil || !ok {
			t.Fatalf("dir/%s missing from the imported tree: %v", name, err)
		}
		return s
	}

	orig, _, commit := importDir(src, compose.NoModifier())
	co := filepath.Join(t.TempDir(), "co")
	if err := checkout.Checkout(ctx, r, commit, co, checkout.Options{User: true}); err != nil {
		t.Fatal(err)
	}
	repotest.WriteFile(t, filepath.Join(co, "dir", "b.tmp"), "replaced\n", 0o644)
	if err := os.Rename(filepath.Join(co, "dir", "b.tmp"), filepath.Join(co, "dir", "b")); err != nil {
		t.Fatal(err)
	}
	repotest.WriteFile(t, filepath.Join(co, "dir", "f"), "new\n", 0o644)

	devino, err := r.ScanHardlinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod := compose.NoModifier()
	mod.DevIno = devino
	got, prog, _ := importDir(co, mod)
	if prog.Reused != 4 || prog.Written != 2 || prog.Scanned != 6 {
		t.Errorf("progress %+v: want 6 scanned, 4 reused (a c d e), 2 written (b f)", prog)
	}
	for _, n := range []string{"a", "c", "d", "e"} {
		if fileSum(got, n) != fileSum(orig, n) {
			t.Errorf("unchanged dir/%s got a new checksum", n)
		}
	}
	if fileSum(got, "b") == fileSum(orig, "b") {
		t.Error("dir/b replaced by rename kept its old checksum")
	}
}

// TestDevInoHonoursModifier imports a hardlink checkout with the devino
// cache under modifiers that change file metadata: a hit may only be
// reused where the modifier leaves the object as it is, so the tree must
// be the one the same modifier gives when importing the original files.
// (Without the cache a bare-user checkout is not the original: its inodes
// carry user.ostreemeta, which a plain read commits as an xattr.)
func TestDevInoHonoursModifier(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeBareUser)
	src := filepath.Join(t.TempDir(), "src")
	for _, n := range []string{"a", "b", "sub/c", "sub/d"} {
		repotest.WriteFile(t, filepath.Join(src, n), "content of "+n+"\n", 0o644)
	}
	write := func(dir string, mod *compose.Modifier) (oid.Checksum, compose.ImportStats) {
		t.Helper()
		tx, err := r.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Abort()
		var last compose.ImportStats
		root, err := compose.ImportDir(ctx, tx, dir, compose.ImportOptions{Modifier: mod, Stats: &last})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := root.Write(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return sum, last
	}
	tx, err := r.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root, err := compose.ImportDir(ctx, tx, src, compose.ImportOptions{Modifier: compose.NoModifier()})
	if err != nil {
		t.Fatal(err)
	}
	commit, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{Subject: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	co := filepath.Join(t.TempDir(), "co")
	if err := checkout.Checkout(ctx, r, commit, co, checkout.Options{User: true}); err != nil {
		t.Fatal(err)
	}
	devino, err := r.ScanHardlinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mods := map[string]func(*compose.Modifier){
		"none":                  func(*compose.Modifier) {},
		"owner uid":             func(m *compose.Modifier) { m.OwnerUID = 4242 },
		"owner gid":             func(m *compose.Modifier) { m.OwnerGID = 4242 },
		"canonical permissions": func(m *compose.Modifier) { m.CanonicalPermissions = true },
		"statoverride +":        func(m *compose.Modifier) { m.ModeAdd = map[string]uint32{"/sub/c": 0o4000} },
		"statoverride =":        func(m *compose.Modifier) { m.ModeSet = map[string]uint32{"/a": 0o600} },
		"skip xattrs":           func(m *compose.Modifier) { m.SkipXattrs = true },
	}
	for name, set := range mods {
		t.Run(name, func(t *testing.T) {
			plain := compose.NoModifier()
			set(plain)
			want, _ := write(src, plain)
			cached := compose.NoModifier()
			set(cached)
			cached.DevIno = devino
			got, prog := write(co, cached)
			if got != want {
				t.Errorf("with the devino cache the tree is %s, without %s", got, want)
			}
			if name == "none" && prog.Reused != 4 {
				t.Errorf("identity modifier reused %d files, want all 4", prog.Reused)
			}
		})
	}
}
