package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// ostreeMadeRepo is the shared fixture repository of mode m made by the
// real ostree (testdata/ostree): it returns its path and main, the rich
// tree's commit.
func ostreeMadeRepo(t *testing.T, m repo.Mode) (string, string) {
	t.Helper()
	repotest.NeedOstree(t)
	f := repotest.OstreeFixture(t, m)
	return f.Path, f.Commits["main"].String()
}

// groveIn runs the grove binary in dir (for default destinations).
func groveIn(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(groveBin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestCheckoutCLIMatchesOstreeEveryMode(t *testing.T) {
	repotest.NeedOstree(t)
	for _, m := range repotest.Modes {
		t.Run(m.String(), func(t *testing.T) {
			p, sum := ostreeMadeRepo(t, m)
			for _, flags := range [][]string{nil, {"-U"}, {"-C"}, {"--force-copy", "--user-mode"}} {
				d := t.TempDir()
				args := append([]string{"checkout", "--repo=" + p}, flags...)
				grove(t, append(args, "main", d+"/g")...)
				repotest.Ostree(t, append(args, "main", d+"/o")...)
				repotest.SameTree(t, d+"/o", d+"/g")
			}
			// Without DESTINATION the commit argument names the directory.
			d := t.TempDir()
			if out, err := groveIn(t, d, "checkout", "--repo="+p, sum); err != nil {
				t.Fatalf("default destination: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(d, sum, "small.txt")); err != nil {
				t.Fatalf("default destination not %s: %v", sum, err)
			}
		})
	}
}

func TestCheckoutCLIErrorsLikeOstree(t *testing.T) {
	repotest.NeedOstree(t)
	p, _ := ostreeMadeRepo(t, repo.ModeArchive)
	d := t.TempDir()
	repotest.WriteFile(t, d+"/busy/file", "x", 0o644)
	cases := []struct {
		name    string
		args    []string
		mention string
	}{
		{"unknown ref", []string{"nosuchref", d + "/a"}, "nosuchref"},
		{"existing destination", []string{"main", d + "/busy"}, "busy"},
		{"hardlinks from archive", []string{"-H", "main", d + "/h"}, "hardlink"},
		{"union-identical without -H", []string{"--union-identical", "main", d + "/u"}, "--require-hardlinks"},
		{"union and union-add", []string{"--union", "--union-add", "main", d + "/u2"}, "--union-add"},
		{"missing subpath", []string{"--subpath=/no/such", "main", d + "/s"}, "No such file or directory: /no"}, // ostree names the first missing component
	}
	for _, tc := range cases {
		args := append([]string{"checkout", "--repo=" + p}, tc.args...)
		_, stderr, err := groveErr(t, args...)
		if err == nil {
			t.Errorf("%s: grove succeeded", tc.name)
			continue
		}
		if !strings.Contains(stderr, tc.mention) {
			t.Errorf("%s: stderr %q does not mention %q", tc.name, stderr, tc.mention)
		}
		oargs := append([]string{"checkout", "--repo=" + p}, tc.args...)
		for i, a := range oargs {
			oargs[i] = strings.Replace(a, d+"/", d+"/ostree-", 1)
		}
		if tc.name == "existing destination" {
			oargs[len(oargs)-1] = d + "/busy"
		}
		if out, err := repotest.OstreeErr(t, oargs...); err == nil {
			t.Errorf("%s: ostree succeeded where grove failed: %s", tc.name, out)
		}
	}
	// --allow-noent turns a missing subpath into a no-op, as in ostree.
	grove(t, "checkout", "--repo="+p, "--allow-noent", "--subpath=/no/such", "main", d+"/noent")
	repotest.Ostree(t, "checkout", "--repo="+p, "--allow-noent", "--subpath=/no/such", "main", d+"/ostree-noent")
}

func TestCheckoutCLIUnionModesAndSubpathFile(t *testing.T) {
	repotest.NeedOstree(t)
	p, _ := ostreeMadeRepo(t, repo.ModeBareUser)
	for _, flags := range [][]string{{"--union"}, {"--union-add"}, {"-U", "-H", "--union-identical"}} {
		d := t.TempDir()
		for _, dest := range []string{d + "/g", d + "/o"} {
			repotest.WriteFile(t, dest+"/extra", "kept\n", 0o644)
			if flags[0] != "-U" {
				repotest.WriteFile(t, dest+"/small.txt", "local\n", 0o644)
			}
		}
		args := append([]string{"checkout", "--repo=" + p}, flags...)
		grove(t, append(args, "main", d+"/g")...)
		repotest.Ostree(t, append(args, "main", d+"/o")...)
		repotest.SameTree(t, d+"/o", d+"/g")
	}
	d := t.TempDir()
	grove(t, "checkout", "--repo="+p, "--subpath=/etc/os-release", "main", d+"/g")
	repotest.Ostree(t, "checkout", "--repo="+p, "--subpath=/etc/os-release", "main", d+"/o")
	repotest.SameTree(t, d+"/o", d+"/g")
}

func TestCheckoutCLIFromFile(t *testing.T) {
	repotest.NeedOstree(t)
	p, sum := ostreeMadeRepo(t, repo.ModeBare)
	d := t.TempDir()
	list := d + "/list"
	if err := os.WriteFile(list, []byte("main\x00/usr\x00"+sum+"\x00/etc\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	grove(t, "checkout", "--repo="+p, "--union", "--from-file="+list, d+"/g")
	repotest.Ostree(t, "checkout", "--repo="+p, "--union", "--from-file="+list, d+"/o")
	repotest.SameTree(t, d+"/o", d+"/g")
}
