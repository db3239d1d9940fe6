package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repotest"
)

// diffFixture commits an old and a new tree (added, removed, modified
// file, mode change, file→dir, dir→file, symlink target change, nested
// added dirs, owner-only dir change) with the real ostree.
func diffFixture(t *testing.T, mode string) (repoPath, dir string) {
	t.Helper()
	dir = t.TempDir()
	repoPath = filepath.Join(dir, "repo")
	repotest.Ostree(t, "init", "--repo="+repoPath, "--mode="+mode)
	t1, t2 := filepath.Join(dir, "t1"), filepath.Join(dir, "t2")
	for _, tr := range []string{t1, t2} {
		repotest.WriteFile(t, filepath.Join(tr, "a"), "a\n", 0o644)
		repotest.WriteFile(t, filepath.Join(tr, "same"), "same\n", 0o644)
		repotest.WriteFile(t, filepath.Join(tr, "keep", "y"), "y\n", 0o644)
		repotest.WriteFile(t, filepath.Join(tr, "untouched", "deep", "u"), "u\n", 0o644)
	}
	repotest.WriteFile(t, filepath.Join(t1, "mod"), "m\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t2, "mod"), "M2\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t1, "rm"), "r\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t1, "rmdir", "in", "f"), "f\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t1, "f2d", "z"), "z\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t2, "f2d"), "now a file\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t1, "d2f"), "q\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t2, "d2f", "k"), "k\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t1, "sub", "deep", "x"), "x\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t2, "sub", "deep", "x"), "x2\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t2, "sub", "deep", "added"), "added\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t2, "new"), "new\n", 0o644)
	repotest.WriteFile(t, filepath.Join(t2, "newdir", "nd", "f"), "n\n", 0o644)
	for _, c := range []struct{ tr, target string }{{t1, "tgt1"}, {t2, "tgt2"}} {
		if err := os.Symlink(c.target, filepath.Join(c.tr, "link")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(t2, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(t2, "keep"), 0o700); err != nil {
		t.Fatal(err)
	}
	repotest.Ostree(t, "commit", "--repo="+repoPath, "-b", "one", "-s", "1", "--tree=dir="+t1)
	repotest.Ostree(t, "commit", "--repo="+repoPath, "-b", "two", "-s", "2", "--tree=dir="+t2)
	return repoPath, dir
}

// ostreeRun runs the real ostree in dir and returns stdout (any exit).
func ostreeRunIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(repotest.NeedOstree(t), args...)
	cmd.Dir = dir
	out, _ := cmd.Output()
	return string(out)
}

func groveInDir(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(groveBin, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("grove %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

func TestDiffMatchesOstreeByteForByte(t *testing.T) {
	repotest.NeedOstree(t)
	for _, mode := range []string{"archive", "bare-user", "bare", "bare-user-only"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			repoPath, dir := diffFixture(t, mode)
			for _, args := range [][]string{
				{"one", "two"},
				{"two", "one"},
				{"one", "one"},
				{"one", "./t2"},
				{"./t1", "two"},
				{"./t1", "./t2"},
				{"--no-xattrs", "one", "./t2"},
				{"--owner-uid=0", "--owner-gid=0", "two", "./t2"},
				{"--stats", "one", "two"},
				{"--stats", "--fs-diff", "one", "two"},
			} {
				full := append([]string{"diff", "--repo=" + repoPath}, args...)
				want := ostreeRunIn(t, dir, full...)
				got := groveInDir(t, dir, full...)
				if got != want {
					t.Errorf("diff %v:\ngrove:\n%s\nostree:\n%s", args, got, want)
				}
				if args[0] == "one" && args[1] == "two" && !strings.Contains(got, "A    /newdir/nd/f") {
					t.Errorf("fixture not exercised: %s", got)
				}
			}
		})
	}
}
