package prune_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/prune"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/textual"
)

func open(t *testing.T, p string) *repo.Repo {
	t.Helper()
	r, err := repo.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Counting (--no-prune) agrees with ostree's on the same repository, and
// pruning for real leaves what ostree considers a clean repository with
// nothing left to prune.
func TestPruneAgreesWithOstree(t *testing.T) {
	ctx := context.Background()
	for _, m := range repotest.Modes {
		t.Run(m.String(), func(t *testing.T) {
			f := repotest.OstreeFixture(t, m)
			r := open(t, f.Path)
			if err := r.DeleteRef(ctx, "", "other/branch"); err != nil {
				t.Fatal(err)
			}
			if err := r.DeleteRef(ctx, "origin", "remote/ref"); err != nil {
				t.Fatal(err)
			}
			for _, opts := range []prune.Options{{RefsOnly: true, Depth: -1}, {RefsOnly: true, Depth: 0}} {
				opts.NoPrune = true
				res, err := prune.Prune(ctx, r, opts)
				if err != nil {
					t.Fatal(err)
				}
				args := []string{"--repo=" + f.Path, "prune", "--no-prune", "--refs-only", fmt.Sprintf("--depth=%d", opts.Depth)}
				out := repotest.Ostree(t, args...)
				want := fmt.Sprintf("Would delete: %d objects, freeing %s", res.Pruned, textual.FormatSize(res.Freed))
				if res.Pruned == 0 {
					want = "No unreachable objects"
				}
				if !strings.Contains(out, want) || !strings.Contains(out, fmt.Sprintf("Total objects: %d", res.Total)) {
					t.Errorf("depth %d: grove %+v; ostree says:\n%s", opts.Depth, res, out)
				}
			}
			res, err := prune.Prune(ctx, r, prune.Options{RefsOnly: true, Depth: 0})
			if err != nil || res.Pruned == 0 {
				t.Fatalf("prune: %v, %+v", err, res)
			}
			repotest.Ostree(t, "--repo="+f.Path, "fsck")
			if out := repotest.Ostree(t, "--repo="+f.Path, "prune", "--no-prune", "--refs-only", "--depth=0"); !strings.Contains(out, "No unreachable objects") {
				t.Errorf("after grove's prune ostree still finds:\n%s", out)
			}
			if ok, _ := r.HasObject(ctx, oid.ObjectName{Checksum: f.Commits["main^"], Type: oid.Commit}); ok {
				t.Error("main^ survived a depth-0 prune")
			}
		})
	}
}

func TestDeleteCommitRefusesReferencedCommits(t *testing.T) {
	ctx := context.Background()
	f := repotest.OstreeFixture(t, repo.ModeArchive)
	r := open(t, f.Path)
	if err := prune.DeleteCommit(ctx, r, f.Commits["main"]); !errors.Is(err, prune.ErrReferenced) {
		t.Fatalf("deleting a ref's commit: %v", err)
	}
	if err := prune.DeleteCommit(ctx, r, f.Commits["main^"]); !errors.Is(err, prune.ErrReferenced) {
		t.Fatalf("deleting a remote ref's commit: %v", err)
	}
	if err := r.DeleteRef(ctx, "origin", "remote/ref"); err != nil {
		t.Fatal(err)
	}
	if err := prune.DeleteCommit(ctx, r, f.Commits["main^"]); err != nil {
		t.Fatalf("deleting an unreferenced commit: %v", err)
	}
	if ok, _ := r.HasObject(ctx, oid.ObjectName{Checksum: f.Commits["main^"], Type: oid.Commit}); ok {
		t.Error("commit still there")
	}
}
