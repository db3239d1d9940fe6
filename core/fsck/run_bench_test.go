package fsck

import (
	"context"
	"os"
	"testing"

	"github.com/groveos/grove/core/repo"
)

// BenchmarkRun checks the repository named by $GROVE_FSCK_BENCH_REPO (for
// example the bench's fixtures), skipped when unset.
func BenchmarkRun(b *testing.B) {
	p := os.Getenv("GROVE_FSCK_BENCH_REPO")
	if p == "" {
		b.Skip("GROVE_FSCK_BENCH_REPO not set")
	}
	ctx := context.Background()
	r, err := repo.Open(ctx, p)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := Run(ctx, r, Options{})
		if err != nil || res.Err() != nil {
			b.Fatal(err, res.Err())
		}
	}
}
