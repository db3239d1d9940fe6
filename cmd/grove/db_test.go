package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/dpkgdb/dpkgdbtest"
	"github.com/groveos/grove/core/repotest"
)

// TestDBDiff: grove db diff between two commits of a root that the real
// dpkg installed tiny .debs into, changed between them (upgrade,
// downgrade, removal, addition); block and JSON output, db list, and the
// errors.
func TestDBDiff(t *testing.T) {
	t.Parallel()
	dpkgdbtest.Need(t)
	dir := t.TempDir()
	repoPath := filepath.Join(dir, "repo")
	grove(t, "--repo="+repoPath, "init", "--mode=bare-user")
	debs := t.TempDir()
	deb := func(name, version string) string { return dpkgdbtest.Deb(t, debs, name, version, "all") }
	root := filepath.Join(dir, "root")
	dpkgdbtest.Root(t, root)
	dpkgdbtest.Dpkg(t, root, "-i", deb("alpha", "1.0-1"), deb("beta", "2:0.9"), deb("delta", "2.0"), deb("steady", "3"))
	grove(t, "--repo="+repoPath, "commit", "-b", "os", "-s", "one", "--tree=dir="+root)
	dpkgdbtest.Dpkg(t, root, "-i", deb("alpha", "1.2-1"), deb("delta", "1.5"), deb("gamma", "1.0~rc1"))
	dpkgdbtest.Dpkg(t, root, "-r", "beta")
	grove(t, "--repo="+repoPath, "commit", "-b", "os", "-s", "two", "--tree=dir="+root)
	from := strings.TrimSpace(grove(t, "--repo="+repoPath, "rev-parse", "os^"))
	to := strings.TrimSpace(grove(t, "--repo="+repoPath, "rev-parse", "os"))

	out := grove(t, "--repo="+repoPath, "db", "diff", "os^", "os")
	want := "ostree diff commit from: os^ (" + from + ")\nostree diff commit to:   os (" + to + ")\n" +
		"Upgraded:\n  alpha 1.0-1 -> 1.2-1\nDowngraded:\n  delta 2.0 -> 1.5\nRemoved:\n  beta 2:0.9\nAdded:\n  gamma 1.0~rc1\n"
	if out != want {
		t.Errorf("db diff:\n%s\nwant\n%s", out, want)
	}
	if out := grove(t, "--repo="+repoPath, "db", "diff", from, to); !strings.HasPrefix(out, "ostree diff commit from: "+from+"\nostree diff commit to:   "+to+"\n") {
		t.Errorf("db diff by checksum:\n%s", out)
	}
	var js struct {
		From     string `json:"ostree-commit-from"`
		Upgraded []struct{ Name, Arch, Old, New string }
		Removed  []struct{ Name, Old string }
	}
	if err := json.Unmarshal([]byte(grove(t, "--repo="+repoPath, "db", "diff", "--format=json", "os^", "os")), &js); err != nil {
		t.Fatal(err)
	}
	if js.From != from || len(js.Upgraded) != 1 || js.Upgraded[0].New != "1.2-1" || js.Removed[0].Name != "beta" {
		t.Errorf("json: %+v", js)
	}
	list := grove(t, "--repo="+repoPath, "db", "list", "os")
	if list != "ostree commit: os ("+to+")\n alpha:all 1.2-1\n delta:all 1.5\n gamma:all 1.0~rc1\n steady:all 3\n" {
		t.Errorf("db list:\n%s", list)
	}
	// Errors.
	empty := filepath.Join(dir, "empty")
	repotest.WriteFile(t, filepath.Join(empty, "etc/hostname"), "x\n", 0o644)
	grove(t, "--repo="+repoPath, "commit", "-b", "bare", "-s", "no packages", "--tree=dir="+empty)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"db", "diff", "bare", "bare"}, "no dpkg status database"},
		{[]string{"db", "diff", "os", "nosuch"}, "Refspec 'nosuch' not found"},
		{[]string{"db", "diff", "--format=yaml", "os", "os"}, "Format argument is invalid"},
		{[]string{"db", "diff", "os"}, "accepts 2 arg(s)"},
	} {
		if _, errOut, err := groveErr(t, append([]string{"--repo=" + repoPath}, c.args...)...); err == nil || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: %v %q, want %q", c.args, err, errOut, c.want)
		}
	}
}
