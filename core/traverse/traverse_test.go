package traverse_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/traverse"
)

// ostreeHistory makes a repository with three commits on main made by the
// real ostree, each changing one file, plus an orphan commit.
func ostreeHistory(t *testing.T, m repo.Mode) (*repo.Repo, []oid.Checksum) {
	t.Helper()
	p := t.TempDir() + "/repo"
	name := m.String()
	repotest.Ostree(t, "init", "--repo="+p, "--mode="+name)
	src := t.TempDir() + "/src"
	repotest.RichTree(t, src)
	var commits []oid.Checksum
	for i := range 3 {
		repotest.WriteFile(t, filepath.Join(src, "changing", "v"), strings.Repeat("x", i+1), 0o644)
		out := repotest.Ostree(t, "commit", "--repo="+p, "-b", "main", "-s", "c", "--tree=dir="+src)
		commits = append(commits, oid.MustParse(out))
	}
	r, err := repo.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return r, commits
}

// ostreeSet lists what `ostree ls -R` plus the commit chain says is
// reachable: computed independently by listing every object in a fresh
// single-commit repository.
func TestReachableEqualsAllObjectsOfAFreshRepo(t *testing.T) {
	ctx := context.Background()
	for _, m := range repotest.Modes {
		t.Run(m.String(), func(t *testing.T) {
			r, commits := ostreeHistory(t, m)
			all := map[oid.ObjectName]bool{}
			if err := r.ListObjects(ctx, func(n oid.ObjectName) error {
				if n.Type != oid.CommitMeta {
					all[n] = true
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got, err := traverse.Reachable(ctx, r, commits[2:], -1)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(all) {
				t.Fatalf("reachable %d objects, repo has %d", len(got), len(all))
			}
			for n := range all {
				if !got[n] {
					t.Errorf("%s not reached", n)
				}
			}
			// Depth 0 reaches one commit; depth 1 two.
			for depth, want := range []int{1, 2} {
				s, err := traverse.Reachable(ctx, r, commits[2:], depth)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for o := range s {
					if o.Type == oid.Commit {
						n++
					}
				}
				if n != want {
					t.Errorf("depth %d: %d commits, want %d", depth, n, want)
				}
			}
			// Walk agrees with Reachable.
			walked := map[oid.ObjectName]bool{}
			if err := traverse.Walk(ctx, r, commits[2], -1, func(n oid.ObjectName, _ string) error {
				if walked[n] {
					t.Errorf("%s visited twice", n)
				}
				walked[n] = true
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(walked) != len(got) {
				t.Errorf("walk %d objects, reachable %d", len(walked), len(got))
			}
		})
	}
}

func TestWalkSkipDirAndPaths(t *testing.T) {
	ctx := context.Background()
	r, commits := ostreeHistory(t, repo.ModeArchive)
	var paths []string
	err := traverse.Walk(ctx, r, commits[2], 0, func(n oid.ObjectName, p string) error {
		if n.Type == oid.DirTree && p == "/changing" {
			return traverse.SkipDir
		}
		if n.Type == oid.File {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if strings.HasPrefix(p, "/changing/") {
			t.Errorf("SkipDir did not skip %s", p)
		}
	}
	if len(paths) == 0 {
		t.Fatal("no files visited")
	}
}

func TestMissingDirTreeFailsUnlessPartialOrTolerant(t *testing.T) {
	ctx := context.Background()
	r, commits := ostreeHistory(t, repo.ModeArchive)
	c, err := r.LoadCommit(ctx, commits[2])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(r.ObjectPath(oid.ObjectName{Checksum: c.RootTree, Type: oid.DirTree})); err != nil {
		t.Fatal(err)
	}
	if _, err := traverse.Reachable(ctx, r, commits[2:], 0); err == nil {
		t.Fatal("missing root dirtree not reported")
	}
	s, err := traverse.ReachableSet(ctx, r, commits[2:], 0, traverse.Options{Tolerant: true, Parents: true})
	if err != nil {
		t.Fatal(err)
	}
	tn := oid.ObjectName{Checksum: c.RootTree, Type: oid.DirTree}
	if !s.Objects[tn] {
		t.Fatal("tolerant walk dropped the missing dirtree")
	}
	if cs := s.Commits(tn); len(cs) != 1 || cs[0] != commits[2] {
		t.Fatalf("referrers of root tree: %v", cs)
	}
	if err := r.MarkPartial(commits[2], true); err != nil {
		t.Fatal(err)
	}
	if _, err := traverse.Reachable(ctx, r, commits[2:], 0); err != nil {
		t.Fatalf("partial commit: %v", err)
	}
}

func TestMissingParentEndsHistory(t *testing.T) {
	ctx := context.Background()
	r, commits := ostreeHistory(t, repo.ModeArchive)
	if err := os.Remove(r.ObjectPath(oid.ObjectName{Checksum: commits[0], Type: oid.Commit})); err != nil {
		t.Fatal(err)
	}
	s, err := traverse.Reachable(ctx, r, commits[2:], -1)
	if err != nil {
		t.Fatal(err)
	}
	if s[oid.ObjectName{Checksum: commits[0], Type: oid.Commit}] || !s[oid.ObjectName{Checksum: commits[1], Type: oid.Commit}] {
		t.Fatal("wrong commits reached")
	}
}
