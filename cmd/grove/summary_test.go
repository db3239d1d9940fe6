package main

import (
	"os"
	"strings"
	"testing"
)

// A summary written by grove must be read back identically by ostree
// (--view and --raw print the same bytes from both tools) and let a client
// pull over file://.
func TestSummaryUpdateIsAcceptedByOstree(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	for _, src := range []string{f.archive, f.grove} {
		dir := t.TempDir() + "/r"
		inspCopyTree(t, src, dir)
		if err := os.WriteFile(dir+"/summary.sig", []byte("stale"), 0o644); err != nil {
			t.Fatal(err)
		}
		grove(t, "--repo="+dir, "summary", "-u", "-m", "custom='value'", "--add-metadata=n=uint32 5")
		if _, err := os.Stat(dir + "/summary.sig"); !os.IsNotExist(err) {
			t.Errorf("stale summary.sig kept: %v", err)
		}
		for _, args := range [][]string{{"summary", "--view"}, {"summary", "--raw"}} {
			inspCompare(t, dir, false, args...)
		}
		view := grove(t, "--repo="+dir, "summary", "--view")
		for _, want := range []string{"* main\n", "ostree.summary.indexed-deltas: true", "custom: 'value'", "Repository Mode (ostree.summary.mode): archive-z2"} {
			if !strings.Contains(view, want) {
				t.Errorf("summary view lacks %q:\n%s", want, view)
			}
		}
		if strings.Contains(view, "origin:") {
			t.Errorf("remote ref in summary:\n%s", view)
		}
		client := t.TempDir() + "/client"
		inspMustRun(t, "ostree", "--repo="+client, "init", "--mode=archive")
		inspMustRun(t, "ostree", "--repo="+client, "remote", "add", "--no-gpg-verify", "x", "file://"+dir)
		inspMustRun(t, "ostree", "--repo="+client, "pull", "x", "main")
		refs, _, _ := inspRun(t, "ostree", "--repo="+client, "remote", "refs", "x")
		if !strings.Contains(refs, "x:main") {
			t.Errorf("remote refs from grove summary: %q", refs)
		}
	}
}

// A summary written by ostree prints identically through grove.
func TestSummaryViewOfOstreeSummary(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	dir := t.TempDir() + "/r"
	inspCopyTree(t, f.archive, dir)
	inspMustRun(t, "ostree", "--repo="+dir, "summary", "-u", "--add-metadata=k=['x']")
	inspCompare(t, dir, false, "summary", "--view")
	inspCompare(t, dir, false, "summary", "--raw")
	inspCompare(t, dir, false, "summary")
	notRepo := t.TempDir()
	_, errOut, code := inspRun(t, groveBin, "--repo="+notRepo, "summary", "--view")
	if code == 0 || !strings.Contains(errOut, notRepo) {
		t.Errorf("non-repo: exit %d %q", code, errOut)
	}
}

func inspMustRun(t *testing.T, bin string, args ...string) {
	t.Helper()
	if out, errOut, code := inspRun(t, bin, args...); code != 0 {
		t.Fatalf("%s %v: %d %s %s", bin, args, code, out, errOut)
	}
}
