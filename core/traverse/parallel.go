package traverse

import (
	"context"
	"sort"
	"sync"

	"github.com/groveos/grove/core/internal/workq"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
)

// ObjectVisitor handles the objects of a Parallel walk; there is one per worker
// goroutine, so it may keep buffers of its own.
type ObjectVisitor interface {
	// Visit checks, copies or reads one object. size is what Size said for
	// content objects (-1 when unknown or not asked). For a dirtree, the
	// decoded tree it returns is expanded (its entries are visited); a
	// dirtree returned with an error is expanded too (fsck reports a bad
	// checksum and still checks what the tree names).
	Visit(ctx context.Context, name oid.ObjectName, size int64) (*object.DirTree, error)
	// Size sizes a newly found content object so that the largest start
	// first, or returns -1. It is called only with ParallelOptions.SizeContent.
	Size(name oid.ObjectName) int64
}

// ParallelOptions tune Parallel.
type ParallelOptions struct {
	// Workers is the number of goroutines (default 1).
	Workers int
	// NewVisitor makes each worker's Visitor.
	NewVisitor func() ObjectVisitor
	// SizeContent calls ObjectVisitor.Size for every content object found
	// (outside the walk's lock), to visit the largest first.
	SizeContent bool
	// FailFast ends the walk at the first error, which Parallel returns.
	// Otherwise errors are collected as Problems and the walk goes on.
	FailFast bool
	// Settles, when set, says that an error settles everything after its
	// object in name order: objects sorting after the least such one are
	// not visited any more (dirtrees still are, for they find more work).
	// fsck without --all uses it: only the first corruption is reported.
	Settles func(err error) bool
	// Done, when set, is called after every visit with the number of
	// objects visited and, once every dirtree is expanded, the total (0
	// until then; the visits done before it is known are reported again
	// then, one by one). It runs under the walk's lock: keep it short.
	Done func(done, total int)
}

// Problem is an object a Parallel walk could not visit.
type Problem struct {
	Name oid.ObjectName
	Err  error
}

// Parallel visits every object reachable from roots (commits, dirtrees,
// dirmetas; commits are visited but not expanded: put their root dirtree
// and dirmeta among the roots) on several goroutines in one pass: each
// dirtree is visited once and expanded by the worker that visited it, and
// content objects are visited while the rest of the tree is still being
// found, metadata before content and large content first. It returns the
// number of objects reached and the problems in name order, so that what
// is reported does not depend on which worker got there first.
func Parallel(ctx context.Context, roots []oid.ObjectName, opts ParallelOptions) (int, []Problem, error) {
	w := &parallel{ctx: ctx, opts: opts, seen: make(map[oid.ObjectName]struct{}, 8192),
		files: workq.NewHeap(func(f sized) int64 { return f.size })}
	w.cond.L = &w.mu
	for _, n := range roots {
		w.addMeta(n)
	}
	if w.trees == 0 {
		w.total = len(w.seen)
	}
	var wg sync.WaitGroup
	for range max(opts.Workers, 1) {
		wg.Go(w.work)
	}
	wg.Wait()
	if w.fatal != nil {
		return 0, nil, w.fatal
	}
	sort.Slice(w.found, func(i, j int) bool { return less(w.found[i].Name, w.found[j].Name) })
	return len(w.seen), w.found, nil
}

type parallel struct {
	ctx  context.Context
	opts ParallelOptions

	mu      sync.Mutex
	cond    sync.Cond
	seen    map[oid.ObjectName]struct{}
	meta    []oid.ObjectName   // queued commits, dirtrees, dirmetas
	files   *workq.Heap[sized] // queued content objects, largest first
	running int
	trees   int // dirtrees queued or being visited: the total is unknown until 0
	done    int
	total   int
	found   []Problem
	// settled is the least object whose error settled the rest (Settles).
	settled *oid.ObjectName
	fatal   error
}

// sized is a content object and its size (-1: unknown).
type sized struct {
	name oid.ObjectName
	size int64
}

func less(a, b oid.ObjectName) bool {
	if a.Checksum != b.Checksum {
		return string(a.Checksum[:]) < string(b.Checksum[:])
	}
	return a.Type < b.Type
}

// addMeta queues a metadata object unless seen; the caller holds mu.
func (w *parallel) addMeta(name oid.ObjectName) {
	if _, ok := w.seen[name]; ok {
		return
	}
	w.seen[name] = struct{}{}
	if name.Type == oid.DirTree {
		w.trees++
	}
	w.meta = append(w.meta, name)
}

func (w *parallel) work() {
	v := w.opts.NewVisitor()
	var newFiles []sized
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for len(w.meta) == 0 && w.files.Len() == 0 && w.running > 0 && w.fatal == nil {
			w.cond.Wait()
		}
		if w.fatal != nil || (len(w.meta) == 0 && w.files.Len() == 0) {
			w.cond.Broadcast()
			return
		}
		if err := w.ctx.Err(); err != nil {
			w.fatal = err
			continue
		}
		// Dirtrees first: they find more work.
		it := sized{size: -1}
		if n := len(w.meta); n > 0 {
			it.name = w.meta[n-1]
			w.meta = w.meta[:n-1]
		} else {
			it = w.files.Pop()
		}
		name := it.name
		skip := w.settled != nil && name.Type != oid.DirTree && less(*w.settled, name)
		w.running++
		w.mu.Unlock()

		var err error
		var tree *object.DirTree
		if !skip {
			tree, err = v.Visit(w.ctx, name, it.size)
		}

		w.mu.Lock()
		if tree != nil && name.Type == oid.DirTree {
			newFiles = w.expand(tree, newFiles[:0])
			if len(newFiles) > 0 && w.opts.SizeContent {
				// Size the new files outside the lock (this worker
				// still counts as running, so nobody finishes early).
				w.cond.Broadcast()
				w.mu.Unlock()
				for i := range newFiles {
					newFiles[i].size = v.Size(newFiles[i].name)
				}
				w.mu.Lock()
			}
			for _, f := range newFiles {
				w.files.Push(f)
			}
		}
		w.running--
		if name.Type == oid.DirTree {
			w.trees--
		}
		if err != nil {
			if w.opts.FailFast {
				if w.fatal == nil {
					w.fatal = err
				}
				continue
			}
			w.found = append(w.found, Problem{name, err})
			if w.opts.Settles != nil && w.opts.Settles(err) && (w.settled == nil || less(name, *w.settled)) {
				n := name
				w.settled = &n
			}
		}
		w.done++
		if w.opts.Done != nil {
			switch {
			case w.total > 0:
				w.opts.Done(w.done, w.total)
			case w.trees == 0:
				// Every object is known now: report the ones already done.
				w.total = len(w.seen)
				for i := 1; i <= w.done; i++ {
					w.opts.Done(i, w.total)
				}
			}
		} else if w.total == 0 && w.trees == 0 {
			w.total = len(w.seen)
		}
		w.cond.Broadcast()
	}
}

// expand queues a dirtree's subdirectories and returns its new files
// (appended to buf, sizes unknown); the caller holds mu.
func (w *parallel) expand(tree *object.DirTree, buf []sized) []sized {
	for _, f := range tree.Files {
		n := oid.ObjectName{Checksum: f.Checksum, Type: oid.File}
		if _, ok := w.seen[n]; !ok {
			w.seen[n] = struct{}{}
			buf = append(buf, sized{name: n, size: -1})
		}
	}
	for _, d := range tree.Dirs {
		w.addMeta(oid.ObjectName{Checksum: d.Meta, Type: oid.DirMeta})
		w.addMeta(oid.ObjectName{Checksum: d.Tree, Type: oid.DirTree})
	}
	return buf
}
