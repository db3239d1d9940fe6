package diff_test

import (
	"context"
	"strings"
	"testing"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/diff"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// lines renders a Result as `ostree diff` prints it.
func lines(res *diff.Result) string {
	var b strings.Builder
	for _, it := range res.Modified {
		b.WriteString("M    " + it.Path + "\n")
	}
	for _, it := range res.Removed {
		b.WriteString("D    " + it.Path + "\n")
	}
	for _, it := range res.Added {
		b.WriteString("A    " + it.Path + "\n")
	}
	return b.String()
}

// Two commits compare as `ostree diff` compares them, in its order; a
// checkout of a commit compares equal to it.
func TestDiffMatchesOstree(t *testing.T) {
	ctx := context.Background()
	for _, m := range []repo.Mode{repo.ModeArchive, repo.ModeBareUser} {
		f := repotest.OstreeFixture(t, m)
		r, err := repo.Open(ctx, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := diff.Commit(ctx, r, f.Commits["main^"])
		if err != nil {
			t.Fatal(err)
		}
		b, err := diff.Commit(ctx, r, f.Commits["main"])
		if err != nil {
			t.Fatal(err)
		}
		res, err := diff.Diff(ctx, a, b, diff.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		want := repotest.Ostree(t, "--repo="+f.Path, "diff", "main^", "main")
		if got := strings.TrimSpace(lines(res)); got != want {
			t.Errorf("%s: grove\n%s\nostree\n%s", m, got, want)
		}
		co := t.TempDir() + "/co"
		if err := checkout.Checkout(ctx, r, f.Commits["main"], co, checkout.Options{}); err != nil {
			t.Fatal(err)
		}
		res, err = diff.Diff(ctx, b, diff.Dir(co), diff.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(res.Added) + len(res.Removed) + len(res.Modified); n > 0 {
			t.Errorf("%s: a checkout differs from its commit:\n%s", m, lines(res))
		}
	}
}
