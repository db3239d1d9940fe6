package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// fsckRepo commits a rich tree with the real ostree (ostree=true) or grove
// into a new repository of the given mode.
func fsckRepo(t *testing.T, mode string, byOstree bool) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "repo")
	src := filepath.Join(dir, "src")
	repotest.RichTree(t, src)
	if byOstree {
		repotest.Ostree(t, "init", "--repo="+p, "--mode="+mode)
		repotest.Ostree(t, "commit", "--repo="+p, "-b", "main", "-s", "s", "--tree=dir="+src)
	} else {
		groveCommit(t, p, mode, src)
	}
	return p
}

// groveCommit writes src as branch main with grove's core packages.
func groveCommit(t *testing.T, p, mode, src string) {
	t.Helper()
	ctx := context.Background()
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

func runBoth(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return so.String(), se.String(), code
}

// firstObject returns the path of some loose object with the extension.
func firstObject(t *testing.T, repo, ext string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(repo, "objects", "*", "*."+ext))
	for _, p := range m {
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() && st.Size() > 8 {
			return p
		}
	}
	t.Fatalf("no .%s object in %s", ext, repo)
	return ""
}

func objName(p string) string {
	return filepath.Base(filepath.Dir(p)) + filepath.Base(p)
}

func flipByte(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0x01
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyRepo(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return dst
}

func TestFsckGoodReposAgreeWithOstree(t *testing.T) {
	ostree := repotest.NeedOstree(t)
	for _, mode := range []string{"archive", "bare-user", "bare-user-only", "bare"} {
		for _, byOstree := range []bool{true, false} {
			name := mode + "/grove"
			if byOstree {
				name = mode + "/ostree"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				p := fsckRepo(t, mode, byOstree)
				gout, gerr, gcode := runBoth(t, groveBin, "fsck", "--repo="+p)
				oout, _, ocode := runBoth(t, ostree, "fsck", "--repo="+p)
				if gcode != 0 || ocode != 0 {
					t.Fatalf("exit grove=%d ostree=%d\n%s", gcode, ocode, gerr)
				}
				if gout != oout {
					t.Errorf("stdout differs:\ngrove:\n%s\nostree:\n%s", gout, oout)
				}
			})
		}
	}
}

func TestFsckDetectsCorruptionLikeOstree(t *testing.T) {
	ostree := repotest.NeedOstree(t)
	cases := []struct{ mode, ext string }{
		{"archive", "filez"}, {"bare-user", "file"}, {"bare", "file"}, {"bare-user-only", "file"},
		{"archive", "dirtree"}, {"archive", "commit"}, {"bare-user", "dirmeta"},
	}
	for _, c := range cases {
		t.Run(c.mode+"/"+c.ext, func(t *testing.T) {
			t.Parallel()
			p := fsckRepo(t, c.mode, true)
			obj := firstObject(t, p, c.ext)
			flipByte(t, obj)
			want := strings.TrimSuffix(objName(obj), ".filez")
			want = strings.TrimSuffix(want, "."+c.ext)
			o := copyRepo(t, p)
			_, gerr, gcode := runBoth(t, groveBin, "fsck", "--all", "--repo="+p)
			_, oerr, ocode := runBoth(t, ostree, "fsck", "--all", "--repo="+o)
			if gcode != 1 || ocode == 0 {
				t.Fatalf("exit grove=%d ostree=%d\n%s", gcode, ocode, gerr)
			}
			if !strings.Contains(gerr, want) {
				t.Errorf("grove does not name %s:\n%s\nostree said:\n%s", want, gerr, oerr)
			}
			// Without --all, the first corruption stops the run, exit 1.
			if _, _, code := runBoth(t, groveBin, "fsck", "--repo="+p); code != 1 {
				t.Errorf("exit %d without --all", code)
			}
		})
	}
}

func TestFsckTruncatedObject(t *testing.T) {
	repotest.NeedOstree(t)
	for _, mode := range []string{"archive", "bare-user"} {
		p := fsckRepo(t, mode, true)
		ext := map[string]string{"archive": "filez", "bare-user": "file"}[mode]
		obj := firstObject(t, p, ext)
		if err := os.Truncate(obj, 9); err != nil {
			t.Fatal(err)
		}
		_, gerr, code := runBoth(t, groveBin, "fsck", "--all", "--repo="+p)
		if code != 1 || !strings.Contains(gerr, objName(obj)[:64]) {
			t.Errorf("%s: exit %d, stderr:\n%s", mode, code, gerr)
		}
	}
}

func TestFsckMissingObjectNamesReferrerAndMarksPartial(t *testing.T) {
	ostree := repotest.NeedOstree(t)
	p := fsckRepo(t, "archive", true)
	commit := strings.TrimSpace(grove(t, "rev-parse", "--repo="+p, "main"))
	obj := firstObject(t, p, "dirmeta")
	if err := os.Remove(obj); err != nil {
		t.Fatal(err)
	}
	o := copyRepo(t, p)
	gout, gerr, gcode := runBoth(t, groveBin, "fsck", "--repo="+p)
	oout, oerr, ocode := runBoth(t, ostree, "fsck", "--repo="+o)
	if gcode != 1 || ocode != 1 {
		t.Fatalf("exit grove=%d ostree=%d", gcode, ocode)
	}
	if gout != oout || gerr != oerr {
		t.Errorf("grove:\n%s%s\nostree:\n%s%s", gout, gerr, oout, oerr)
	}
	if !strings.Contains(gerr, "Object missing in commits "+commit+": "+strings.TrimSuffix(objName(obj), ".dirmeta")+".dirmeta") {
		t.Errorf("stderr: %s", gerr)
	}
	// Second run: the commit is fsck-partial, both refuse.
	gout, _, gcode = runBoth(t, groveBin, "fsck", "--repo="+p)
	oout, _, ocode = runBoth(t, ostree, "fsck", "--repo="+o)
	if gcode != 1 || ocode != 1 || gout != oout {
		t.Errorf("second run: exit grove=%d ostree=%d\ngrove:\n%s\nostree:\n%s", gcode, ocode, gout, oout)
	}
}

func TestFsckDeleteRemovesCorruptObject(t *testing.T) {
	repotest.NeedOstree(t)
	p := fsckRepo(t, "archive", true)
	obj := firstObject(t, p, "filez")
	flipByte(t, obj)
	_, _, code := runBoth(t, groveBin, "fsck", "--delete", "--repo="+p)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(obj); !os.IsNotExist(err) {
		t.Fatalf("corrupt object still there: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(p, "state", "*.commitpartial")); len(m) != 1 {
		t.Fatalf("commit not marked partial: %v", m)
	}
}
