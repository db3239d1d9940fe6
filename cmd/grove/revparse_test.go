package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRevParseMatchesOstree(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	for _, p := range f.all() {
		head := strings.TrimSpace(grove(t, "--repo="+p, "rev-parse", "main"))
		for _, args := range [][]string{
			{"rev-parse", "main"}, {"rev-parse", "main^"}, {"rev-parse", "main^^"}, {"rev-parse", "stable"},
			{"rev-parse", "origin:remote/ref"}, {"rev-parse", "origin/remote/ref"}, {"rev-parse", head},
			{"rev-parse", head[:1]}, {"rev-parse", head[:6]}, {"rev-parse", head[:6] + "^"},
			{"rev-parse", "main", "other/branch"}, {"rev-parse", "nope"}, {"rev-parse", "zz"},
			{"rev-parse", ""}, {"rev-parse"}, {"rev-parse", "--single"}, {"rev-parse", "--single", "x"},
		} {
			inspCompare(t, p, false, args...)
		}
	}
}

// An ambiguous prefix must fail in both: craft two commit files sharing a
// prefix by copying a commit object under a second name.
func TestRevParseAmbiguousPrefix(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	dir := t.TempDir() + "/r"
	inspCopyTree(t, f.archive, dir)
	head := strings.TrimSpace(grove(t, "--repo="+dir, "rev-parse", "main"))
	src := filepath.Join(dir, "objects", head[:2], head[2:]+".commit")
	twin := head[:10] + strings.Repeat("0", 54)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "objects", twin[:2], twin[2:]+".commit"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	inspCompare(t, dir, false, "rev-parse", head[:8])
	inspCompare(t, dir, false, "rev-parse", "--single")
	_, errOut, code := inspRun(t, groveBin, "--repo="+dir, "rev-parse", head[:8])
	if code == 0 || !strings.Contains(errOut, head[:8]) {
		t.Fatalf("ambiguous prefix: exit %d, %q", code, errOut)
	}
}

func inspCopyTree(t *testing.T, from, to string) {
	t.Helper()
	if out, err := inspRunCmd("cp", "-a", from, to); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
}

func inspRunCmd(name string, args ...string) (string, error) {
	out, err := inspExecCommand(name, args...).CombinedOutput()
	return string(out), err
}

var inspExecCommand = exec.Command
