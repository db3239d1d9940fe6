package fsck

import (
	"context"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/traverse"
)

type problem = traverse.Problem

// walk checks commits (already known to load) and everything they reach
// in one pass on every core (traverse.Parallel): each dirtree is read
// once, hashed, decoded and expanded by the worker that checks it, and
// content objects are checked while the rest of the tree is still being
// found. roots holds each commit's root dirtree and dirmeta. It returns
// the number of objects and the problems in name order.
func walk(ctx context.Context, r *repo.Repo, commits []oid.Checksum, roots [][2]oid.Checksum, workers int,
	stop, fast bool, report func(progress.Event)) (int, []problem, error) {
	fs := newFastStore(r, fast)
	defer fs.close()
	var start []oid.ObjectName
	for i, c := range commits {
		start = append(start, oid.ObjectName{Checksum: c, Type: oid.Commit},
			oid.ObjectName{Checksum: roots[i][1], Type: oid.DirMeta},
			oid.ObjectName{Checksum: roots[i][0], Type: oid.DirTree})
	}
	opts := traverse.ParallelOptions{
		Workers:     workers,
		NewVisitor:  func() traverse.ObjectVisitor { return fs.newWorker() },
		SizeContent: fs.sizes,
		Done: func(done, total int) {
			report(progress.Event{Phase: PhaseObject, Done: int64(done), Total: int64(total)})
		},
	}
	if stop {
		// Without --all only the least corrupt object is reported:
		// content after it cannot change the report, so it is not read.
		opts.Settles = func(err error) bool { _, ok := err.(*CorruptError); return ok }
	}
	return traverse.Parallel(ctx, start, opts)
}

// Visit implements traverse.ObjectVisitor.
func (c *checker) Visit(ctx context.Context, name oid.ObjectName, size int64) (*object.DirTree, error) {
	return c.check(ctx, name, size)
}

// Size implements traverse.ObjectVisitor.
func (c *checker) Size(name oid.ObjectName) int64 { return c.size(name) }
