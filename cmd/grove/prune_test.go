package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repotest"
)

// historyRepo makes branch main with three commits (timestamps 2020,
// 2021, 2022) and branch other with one, with the real ostree.
func historyRepo(t *testing.T, mode string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "repo")
	src := filepath.Join(dir, "src")
	repotest.RichTree(t, src)
	repotest.Ostree(t, "init", "--repo="+p, "--mode="+mode)
	for i, ts := range []string{"2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z", "2022-01-01T00:00:00Z"} {
		repotest.WriteFile(t, filepath.Join(src, "v", "file"), strings.Repeat("v", i+1), 0o644)
		repotest.Ostree(t, "commit", "--repo="+p, "-b", "main", "-s", "c", "--timestamp="+ts, "--tree=dir="+src)
	}
	repotest.WriteFile(t, filepath.Join(src, "other"), "other", 0o644)
	repotest.Ostree(t, "commit", "--repo="+p, "-b", "other", "-s", "o", "--tree=dir="+src)
	return p
}

// listing is every file under a repository's objects/ and state/.
func listing(t *testing.T, p string) string {
	t.Helper()
	var out []string
	for _, sub := range []string{"objects", "state"} {
		_ = filepath.Walk(filepath.Join(p, sub), func(path string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				rel, _ := filepath.Rel(p, path)
				out = append(out, rel)
			}
			return nil
		})
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func TestPruneMatchesOstree(t *testing.T) {
	ostree := repotest.NeedOstree(t)
	cases := []struct {
		name  string
		setup []string // ostree commands run on both copies first
		args  []string
	}{
		{"orphans-only", []string{"refs --delete other"}, nil},
		{"refs-only-after-ref-delete", []string{"refs --delete other"}, []string{"--refs-only"}},
		{"depth-0", nil, []string{"--refs-only", "--depth=0"}},
		{"depth-1", nil, []string{"--refs-only", "--depth=1"}},
		{"no-prune", []string{"refs --delete other"}, []string{"--refs-only", "--no-prune"}},
		{"keep-younger-than", nil, []string{"--keep-younger-than=2020-06-01 00:00:00"}},
		{"commit-only", nil, []string{"--refs-only", "--depth=0", "--commit-only"}},
		{"retain-branch-depth", nil, []string{"--depth=0", "--retain-branch-depth=main=1"}},
		{"remote-refs-are-roots", []string{"refs --create=origin:main main", "refs --delete main"}, []string{"--refs-only"}},
	}
	for _, mode := range []string{"archive", "bare-user"} {
		for _, c := range cases {
			t.Run(mode+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				g := historyRepo(t, mode)
				o := copyRepo(t, g)
				for _, s := range c.setup {
					for _, p := range []string{g, o} {
						repotest.Ostree(t, append(strings.Fields(s), "--repo="+p)...)
					}
				}
				gout, gerr, gcode := runBoth(t, groveBin, append([]string{"prune", "--repo=" + g}, c.args...)...)
				oout, _, ocode := runBoth(t, ostree, append([]string{"prune", "--repo=" + o}, c.args...)...)
				if gcode != 0 || ocode != 0 {
					t.Fatalf("exit grove=%d ostree=%d: %s", gcode, ocode, gerr)
				}
				if gout != oout {
					t.Errorf("stdout:\ngrove:\n%s\nostree:\n%s", gout, oout)
				}
				if lg, lo := listing(t, g), listing(t, o); lg != lo {
					t.Errorf("remaining objects differ:\ngrove:\n%s\nostree:\n%s", lg, lo)
				}
				if out, err := repotest.OstreeErr(t, "fsck", "--repo="+g); err != nil {
					t.Errorf("ostree fsck after grove prune: %v\n%s", err, out)
				}
			})
		}
	}
}

func TestPruneDeleteCommitWritesTombstoneLikeOstree(t *testing.T) {
	ostree := repotest.NeedOstree(t)
	g := historyRepo(t, "archive")
	o := copyRepo(t, g)
	parent := strings.TrimSpace(grove(t, "rev-parse", "--repo="+g, "main^"))
	gout, gerr, gcode := runBoth(t, groveBin, "prune", "--repo="+g, "--delete-commit="+parent)
	oout, _, ocode := runBoth(t, ostree, "prune", "--repo="+o, "--delete-commit="+parent)
	if gcode != 0 || ocode != 0 || gout != oout {
		t.Fatalf("exit grove=%d ostree=%d %s\ngrove:\n%s\nostree:\n%s", gcode, ocode, gerr, gout, oout)
	}
	if lg, lo := listing(t, g), listing(t, o); lg != lo {
		t.Errorf("objects differ:\ngrove:\n%s\nostree:\n%s", lg, lo)
	}
	tomb := filepath.Join("objects", parent[:2], parent[2:]+".tombstone-commit")
	gb, err1 := os.ReadFile(filepath.Join(g, tomb))
	ob, err2 := os.ReadFile(filepath.Join(o, tomb))
	if err1 != nil || err2 != nil || string(gb) != string(ob) {
		t.Errorf("tombstones differ: %v %v\n%x\n%x", err1, err2, gb, ob)
	}
	// A ref's commit is refused.
	tip := strings.TrimSpace(grove(t, "rev-parse", "--repo="+g, "main"))
	if _, stderr, code := runBoth(t, groveBin, "prune", "--repo="+g, "--delete-commit="+tip); code == 0 || !strings.Contains(stderr, "referenced by") {
		t.Errorf("deleting a ref's commit: exit %d %s", code, stderr)
	}
}
