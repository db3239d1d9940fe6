package traverse_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/traverse"
)

// loadVisitor loads dirtrees from a repository and records every visit.
type loadVisitor struct {
	r    *repo.Repo
	mu   *sync.Mutex
	seen map[oid.ObjectName]int
	fail oid.ObjectName // visiting it fails
}

func (v *loadVisitor) Visit(ctx context.Context, name oid.ObjectName, size int64) (*object.DirTree, error) {
	v.mu.Lock()
	v.seen[name]++
	v.mu.Unlock()
	if name == v.fail {
		return nil, errors.New("boom")
	}
	if name.Type == oid.DirTree {
		return v.r.LoadDirTree(ctx, name.Checksum)
	}
	return nil, nil
}

func (v *loadVisitor) Size(name oid.ObjectName) int64 {
	n, _ := v.r.StoredSize(context.Background(), name)
	return n
}

func roots(t *testing.T, r *repo.Repo, c oid.Checksum) []oid.ObjectName {
	t.Helper()
	commit, err := r.LoadCommit(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return []oid.ObjectName{{Checksum: c, Type: oid.Commit}, {Checksum: commit.RootMeta, Type: oid.DirMeta}, {Checksum: commit.RootTree, Type: oid.DirTree}}
}

// Parallel visits exactly what Reachable finds, each object once, with
// every worker count, and counts progress up to that total.
func TestParallelVisitsEveryReachableObjectOnce(t *testing.T) {
	ctx := context.Background()
	r, commits := ostreeHistory(t, repo.ModeArchive)
	want, err := traverse.Reachable(ctx, r, commits[2:], 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2, 8} {
		var mu sync.Mutex
		seen := map[oid.ObjectName]int{}
		lastDone, lastTotal := 0, 0
		n, problems, err := traverse.Parallel(ctx, roots(t, r, commits[2]), traverse.ParallelOptions{
			Workers:     workers,
			NewVisitor:  func() traverse.ObjectVisitor { return &loadVisitor{r: r, mu: &mu, seen: seen} },
			SizeContent: true,
			Done:        func(done, total int) { lastDone, lastTotal = done, total },
		})
		if err != nil || len(problems) > 0 {
			t.Fatalf("%d workers: %v %v", workers, err, problems)
		}
		if n != len(want) || len(seen) != len(want) || lastDone != n || lastTotal != n {
			t.Fatalf("%d workers: %d reached, %d visited, progress %d/%d; Reachable has %d", workers, n, len(seen), lastDone, lastTotal, len(want))
		}
		for name, k := range seen {
			if !want[name] || k != 1 {
				t.Errorf("%s visited %d times (reachable %v)", name, k, want[name])
			}
		}
	}
}

// A failing visit is a Problem (and the walk goes on), or with FailFast
// the walk's error.
func TestParallelProblemsAndFailFast(t *testing.T) {
	ctx := context.Background()
	r, commits := ostreeHistory(t, repo.ModeBareUser)
	rs := roots(t, r, commits[0])
	bad := rs[1] // the root dirmeta
	newV := func(seen map[oid.ObjectName]int) func() traverse.ObjectVisitor {
		var mu sync.Mutex
		return func() traverse.ObjectVisitor { return &loadVisitor{r: r, mu: &mu, seen: seen, fail: bad} }
	}
	seen := map[oid.ObjectName]int{}
	n, problems, err := traverse.Parallel(ctx, rs, traverse.ParallelOptions{Workers: 2, NewVisitor: newV(seen)})
	if err != nil || len(problems) != 1 || problems[0].Name != bad || len(seen) != n {
		t.Fatalf("collecting: %v, %v, %d of %d visited", err, problems, len(seen), n)
	}
	_, _, err = traverse.Parallel(ctx, rs, traverse.ParallelOptions{Workers: 2, NewVisitor: newV(map[oid.ObjectName]int{}), FailFast: true})
	if err == nil || err.Error() != "boom" {
		t.Fatalf("fail fast: %v", err)
	}
}
