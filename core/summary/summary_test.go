package summary_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/summary"
)

// A summary grove writes is one ostree reads: `ostree summary --view`
// lists every local ref (no remote refs) with its commit, in ostree's
// order, and the repository's mode; generating twice for the same time
// gives the same bytes.
func TestSummaryReadByOstree(t *testing.T) {
	ctx := context.Background()
	f := repotest.OstreeFixture(t, repo.ModeArchive)
	r, err := repo.Open(ctx, f.Path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	a, err := summary.Generate(ctx, r, summary.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := summary.Generate(ctx, r, summary.Options{Now: now})
	if string(a) != string(b) {
		t.Error("summary not deterministic")
	}
	if err := summary.Update(ctx, r, summary.Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	view := repotest.Ostree(t, "--repo="+f.Path, "summary", "--view")
	for _, want := range []string{"* main", "* other/branch", "* stable", f.Commits["main"].String(),
		f.Commits["other/branch"].String(), "Repository Mode (ostree.summary.mode): archive-z2"} {
		if !strings.Contains(view, want) {
			t.Errorf("ostree summary --view lacks %q:\n%s", want, view)
		}
	}
	if strings.Contains(view, "remote/ref") {
		t.Errorf("a remote ref made it into the summary:\n%s", view)
	}
	if strings.Index(view, "* main") > strings.Index(view, "* other/branch") {
		t.Errorf("refs not sorted:\n%s", view)
	}
}
