package apply

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/traverse"
)

// Result says what Offline did.
type Result struct {
	Delta *Delta
	Stats *Stats
}

// Offline applies the delta at path (a delta directory or its superblock
// file) to r in one transaction, as `static-delta apply-offline`: no ref
// is written. The TO commit stays marked partial unless everything it
// reaches is present afterwards; on failure nothing unverified is kept.
func Offline(ctx context.Context, r *repo.Repo, path string, opts Options) (*Result, error) {
	src, err := DirSource(path)
	if err != nil {
		return nil, err
	}
	d, err := Open(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	to := d.Superblock.To
	hadTo, err := r.HasObject(ctx, oid.ObjectName{Checksum: to, Type: oid.Commit})
	if err != nil {
		return nil, err
	}
	wasPartial := r.IsPartial(to)
	tx, err := r.Begin(ctx)
	if err != nil {
		return nil, err
	}
	st, err := d.Execute(ctx, tx, src, opts)
	if err == nil {
		err = tx.Commit(ctx)
	} else {
		tx.Abort()
	}
	if err != nil {
		// A commit object that did not make it needs no partial mark.
		if !hadTo && !wasPartial {
			if ok, _ := r.HasObject(ctx, oid.ObjectName{Checksum: to, Type: oid.Commit}); !ok {
				r.MarkPartial(to, false)
			}
		}
		return nil, err
	}
	missing, err := Missing(ctx, r, to)
	if err != nil {
		return nil, err
	}
	if missing > 0 {
		return nil, fmt.Errorf("%w: %d objects reachable from %s are still missing (commit left partial)", ErrIncomplete, missing, to)
	}
	if err := r.MarkPartial(to, false); err != nil {
		return nil, err
	}
	return &Result{Delta: d, Stats: st}, nil
}

// Missing counts the objects reachable from commit that r lacks. The
// commit should be marked partial while this runs (a missing dirtree is
// then counted instead of failing the walk).
func Missing(ctx context.Context, r *repo.Repo, commit oid.Checksum) (int, error) {
	objs, err := traverse.Reachable(ctx, r, []oid.Checksum{commit}, 0)
	if err != nil {
		return 0, err
	}
	names := make(chan oid.ObjectName, 256)
	var missing atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range names {
				ok, err := r.HasObject(ctx, n)
				if err != nil {
					once.Do(func() { firstErr = err })
				} else if !ok {
					missing.Add(1)
				}
			}
		}()
	}
	for n := range objs {
		names <- n
	}
	close(names)
	wg.Wait()
	return int(missing.Load()), firstErr
}
