package demo

import (
	"context"
	"testing"

	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// TestBuildMakesAValidRichRepo checks the demo's promises (branches, 200+
// versioned commits, union branch, remote, alias) and that the real ostree
// accepts it (fsck, log).
func TestBuildMakesAValidRichRepo(t *testing.T) {
	ctx := context.Background()
	var lines int
	path, err := Build(ctx, t.TempDir(), func(string) { lines++ })
	if err != nil {
		t.Fatal(err)
	}
	if lines == 0 {
		t.Error("no progress reported")
	}
	r, err := repo.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := r.ListRefs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	var remote, alias bool
	for _, ref := range refs {
		names[ref.Name] = true
		remote = remote || ref.Remote == Remote
		alias = alias || ref.AliasOf != ""
	}
	for _, b := range []string{BranchBase, BranchDevel, BranchStandard, BranchARM, BranchComposed, AliasStable} {
		if !names[b] {
			t.Errorf("missing ref %s in %v", b, refs)
		}
	}
	if !remote || !alias {
		t.Errorf("remote ref %v, alias %v; want both", remote, alias)
	}
	total := 0
	for _, b := range []string{BranchBase, BranchDevel, BranchStandard, BranchARM} {
		sum, err := r.ReadRef(ctx, "", b)
		if err != nil {
			t.Fatal(err)
		}
		for !sum.IsZero() {
			c, err := r.LoadCommit(ctx, sum)
			if err != nil {
				t.Fatal(err)
			}
			if c.Version() == "" {
				t.Fatalf("commit %s has no version", sum)
			}
			total++
			sum = c.Parent
		}
	}
	if total < 200 {
		t.Errorf("%d commits, want 200+", total)
	}
	if testing.Short() {
		return
	}
	repotest.NeedOstree(t)
	repotest.Ostree(t, "fsck", "--repo="+path)
	out := repotest.Ostree(t, "log", "--repo="+path, BranchComposed)
	if len(out) == 0 {
		t.Error("empty ostree log")
	}
}

// TestBuildIsDeterministic proves two builds give the same commits.
func TestBuildIsDeterministic(t *testing.T) {
	ctx := context.Background()
	heads := make([]string, 2)
	for i := range heads {
		path, err := Build(ctx, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := repo.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := r.ReadRef(ctx, "", BranchComposed)
		if err != nil {
			t.Fatal(err)
		}
		heads[i] = sum.String()
	}
	if heads[0] != heads[1] {
		t.Errorf("builds differ: %s vs %s", heads[0], heads[1])
	}
}
