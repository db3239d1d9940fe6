package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// inspectRepos are the inspFixtureRepos repositories shared by the inspection verb
// tests: made once per test binary by the real ostree (archive and
// bare-user) and by grove (archive).
type inspectRepos struct {
	archive, bareUser, bare, bareUserOnly, grove string
}

// all lists every fixture repository: ostree-made ones in each mode, then grove's.
func (f inspectRepos) all() []string {
	return []string{f.archive, f.bareUser, f.bare, f.bareUserOnly, f.grove}
}

var (
	inspFixtureDir   string // removed by TestMain
	inspFixtureOnce  sync.Once
	inspFixtureRepos inspectRepos
)

func inspectFixture(t *testing.T) inspectRepos {
	t.Helper()
	repotest.NeedOstree(t)
	inspFixtureOnce.Do(func() { inspFixtureRepos = buildInspectFixture(t) })
	if inspFixtureRepos.archive == "" {
		t.Fatal("inspFixtureRepos build failed earlier")
	}
	return inspFixtureRepos
}

func buildInspectFixture(t *testing.T) inspectRepos {
	// Shared across tests, so not t.TempDir (removed when the first test ends).
	dir, err := os.MkdirTemp("", "grove-inspect-inspFixtureRepos-")
	if err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	repotest.RichTree(t, tree)
	small := filepath.Join(dir, "small")
	repotest.WriteFile(t, small+"/hello", "hello\n", 0o644)
	inspFixtureDir = dir
	// The ostree-made repositories are the shared fixtures
	// (testdata/ostree/make-repos.sh); grove's is written below.
	out := inspectRepos{grove: dir + "/grove"}
	for _, m := range []struct {
		path *string
		mode repo.Mode
	}{{&out.archive, repo.ModeArchive}, {&out.bareUser, repo.ModeBareUser}, {&out.bare, repo.ModeBare}, {&out.bareUserOnly, repo.ModeBareUserOnly}} {
		*m.path = repotest.OstreeFixtureAt(t, m.mode, dir).Path
	}
	// A repository written by grove.
	ctx := context.Background()
	r, err := repo.Create(ctx, out.grove, repo.CreateOptions{Mode: repo.ModeArchive})
	if err != nil {
		t.Fatal(err)
	}
	var parent [32]byte
	for i, src := range []string{small, tree} {
		tx, err := r.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		root, err := compose.ImportDir(ctx, tx, src, compose.ImportOptions{Modifier: &compose.Modifier{OwnerUID: 0, OwnerGID: 0}})
		if err != nil {
			t.Fatal(err)
		}
		sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{
			Subject: "grove commit", Body: "made by grove", Parent: parent, Branch: "main",
			Timestamp: time.Unix(1600000000+int64(i), 0),
			Metadata:  []gvariant.DictEntry{{Key: "version", Value: gvariant.NewVariant("s", "g1")}},
			Detached:  []gvariant.DictEntry{{Key: "note", Value: gvariant.NewVariant("s", "detached")}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		parent = sum
	}
	return out
}

// run runs a binary and returns stdout, stderr and the exit code.
func inspRun(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC", "LC_ALL=C.UTF-8")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// inspLastLine is the final line of stderr: ostree prints usage text before
// its "error: ..." line, grove prints only the error.
func inspLastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// inspCompare runs the same command line through ostree and grove
// and requires the same stdout bytes, exit status and error line.
func inspCompare(t *testing.T, repoPath string, sorted bool, args ...string) {
	t.Helper()
	full := append([]string{"--repo=" + repoPath}, args...)
	oOut, oErr, oCode := inspRun(t, "ostree", full...)
	gOut, gErr, gCode := inspRun(t, groveBin, full...)
	if sorted {
		oOut, gOut = inspSortLines(oOut), inspSortLines(gOut)
	}
	if oOut != gOut {
		t.Errorf("%v: stdout differs\nostree:\n%q\ngrove:\n%q", args, oOut, gOut)
	}
	if (oCode == 0) != (gCode == 0) {
		t.Errorf("%v: exit ostree %d grove %d (stderr %q / %q)", args, oCode, gCode, oErr, gErr)
	}
	if oCode != 0 && inspLastLine(oErr) != inspLastLine(gErr) {
		t.Errorf("%v: error differs\nostree: %s\ngrove:  %s", args, inspLastLine(oErr), inspLastLine(gErr))
	}
}

func inspSortLines(s string) string {
	l := strings.Split(s, "\n")
	sort.Strings(l)
	return strings.Join(l, "\n")
}

func TestLogMatchesOstree(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	for _, p := range f.all() {
		for _, args := range [][]string{
			{"log", "main"}, {"log", "--raw", "main"}, {"log", "main^"}, {"log", "stable"},
			{"log", "other/branch"}, {"log", "origin:remote/ref"}, {"log", "nope"}, {"log"},
		} {
			inspCompare(t, p, false, args...)
		}
	}
}

func TestLogErrorsOnNonRepo(t *testing.T) {
	t.Parallel()
	_, errOut, code := inspRun(t, groveBin, "--repo="+t.TempDir(), "log", "main")
	if code == 0 || !strings.Contains(errOut, "error:") {
		t.Fatalf("want failure naming the repo, got %d %q", code, errOut)
	}
}
