package repotest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repotest"
)

// The committed fixtures are what make-repos.sh makes: running it again
// gives the same commits, and every extracted fixture passes ostree fsck
// with its refs, remote ref and alias in place.
func TestOstreeFixturesMatchTheirScript(t *testing.T) {
	repotest.NeedOstree(t)
	for _, tool := range []string{"python3", "setfattr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("make-repos.sh needs %s: %v", tool, err)
		}
	}
	out := t.TempDir()
	script := filepath.Join(repotest.TestdataDir(t), "ostree", "make-repos.sh")
	if b, err := exec.Command(script, out).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, b)
	}
	want, _ := os.ReadFile(filepath.Join(repotest.TestdataDir(t), "ostree", "commits.txt"))
	got, _ := os.ReadFile(filepath.Join(out, "commits.txt"))
	if string(got) != string(want) {
		t.Fatalf("make-repos.sh now writes other commits; regenerate the fixtures:\n%s\nwant\n%s", got, want)
	}
	for _, m := range repotest.Modes {
		f := repotest.OstreeFixture(t, m)
		repotest.Ostree(t, "--repo="+f.Path, "fsck")
		for ref, sum := range f.Commits {
			if got := repotest.Ostree(t, "--repo="+f.Path, "rev-parse", ref); got != sum.String() {
				t.Errorf("%s: %s = %s, want %s", m, ref, got, sum)
			}
		}
		if got := repotest.Ostree(t, "--repo="+f.Path, "rev-parse", "origin:remote/ref"); got != f.Commits["main^"].String() {
			t.Errorf("%s: origin:remote/ref = %s", m, got)
		}
		if refs := repotest.Ostree(t, "--repo="+f.Path, "refs", "--alias"); !strings.Contains(refs, "stable -> main") {
			t.Errorf("%s: aliases %q", m, refs)
		}
	}
}
