package fsck

import (
	"context"
	"sort"
	"sync"

	"github.com/groveos/grove/core/internal/workq"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
)

// walker finds and checks the objects reachable from commits in one pass
// on every core: each dirtree is read once, hashed, decoded and expanded
// by the worker that checks it, and content objects are checked while the
// rest of the tree is still being found. Problems are collected with
// their names and sorted at the end, so that what is reported does not
// depend on which worker got there first.
type walker struct {
	ctx    context.Context
	r      *repo.Repo
	stop   bool // stop at the first corruption (neither --all nor --delete)
	report func(progress.Event)
	fs     *fastStore

	mu      sync.Mutex
	cond    sync.Cond
	seen    map[oid.ObjectName]struct{}
	meta    []oid.ObjectName      // queued commits, dirtrees, dirmetas
	files   *workq.Heap[fileItem] // queued content objects, largest first
	running int
	trees   int // dirtrees queued or being checked: the total is unknown until 0
	done    int
	total   int
	found   []problem
	// minCorrupt is the least corrupt object found so far when stop is
	// set: objects after it cannot change the report, so their content
	// is not read.
	minCorrupt *oid.ObjectName
	fatal      error
}

type problem struct {
	name oid.ObjectName
	err  error
}

func less(a, b oid.ObjectName) bool {
	if a.Checksum != b.Checksum {
		return string(a.Checksum[:]) < string(b.Checksum[:])
	}
	return a.Type < b.Type
}

// fileItem is a content object and the size of its file (-1: unknown),
// taken when the object is found: starting the largest files first keeps
// one big file from ending the run on a single core, and the checker
// needs no fstat of its own.
type fileItem struct {
	name oid.ObjectName
	size int64
}

// walk checks commits (already known to load) and everything they reach.
// roots holds each commit's root dirtree and dirmeta. It returns the
// number of objects and the problems in name order.
func walk(ctx context.Context, r *repo.Repo, commits []oid.Checksum, roots [][2]oid.Checksum, workers int,
	stop, fast bool, report func(progress.Event)) (int, []problem, error) {
	w := &walker{ctx: ctx, r: r, stop: stop, report: report, seen: make(map[oid.ObjectName]struct{}, 8192),
		files: workq.NewHeap(func(f fileItem) int64 { return f.size })}
	w.cond.L = &w.mu
	w.fs = newFastStore(r, fast)
	defer w.fs.close()
	for i, c := range commits {
		w.addMeta(oid.ObjectName{Checksum: c, Type: oid.Commit})
		w.addMeta(oid.ObjectName{Checksum: roots[i][1], Type: oid.DirMeta})
		w.addMeta(oid.ObjectName{Checksum: roots[i][0], Type: oid.DirTree})
	}
	if w.trees == 0 {
		w.total = len(w.seen)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(w.work)
	}
	wg.Wait()
	if w.fatal != nil {
		return 0, nil, w.fatal
	}
	sort.Slice(w.found, func(i, j int) bool { return less(w.found[i].name, w.found[j].name) })
	return len(w.seen), w.found, nil
}

// addMeta queues a metadata object unless seen; the caller holds mu.
func (w *walker) addMeta(name oid.ObjectName) {
	if _, ok := w.seen[name]; ok {
		return
	}
	w.seen[name] = struct{}{}
	if name.Type == oid.DirTree {
		w.trees++
	}
	w.meta = append(w.meta, name)
}

func (w *walker) work() {
	c := w.fs.newWorker()
	var newFiles []fileItem
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
		it := fileItem{size: -1}
		if n := len(w.meta); n > 0 {
			it.name = w.meta[n-1]
			w.meta = w.meta[:n-1]
		} else {
			it = w.files.Pop()
		}
		name := it.name
		skip := w.minCorrupt != nil && name.Type != oid.DirTree && less(*w.minCorrupt, name)
		w.running++
		w.mu.Unlock()

		var err error
		var tree *object.DirTree
		if !skip {
			tree, err = c.check(w.ctx, name, it.size)
		}

		w.mu.Lock()
		if tree != nil {
			newFiles = newFiles[:0]
			for _, f := range tree.Files {
				n := oid.ObjectName{Checksum: f.Checksum, Type: oid.File}
				if _, ok := w.seen[n]; !ok {
					w.seen[n] = struct{}{}
					newFiles = append(newFiles, fileItem{name: n})
				}
			}
			for _, d := range tree.Dirs {
				w.addMeta(oid.ObjectName{Checksum: d.Meta, Type: oid.DirMeta})
				w.addMeta(oid.ObjectName{Checksum: d.Tree, Type: oid.DirTree})
			}
			if len(newFiles) > 0 && !w.fs.sizes {
				for _, f := range newFiles {
					f.size = -1
					w.files.Push(f)
				}
			} else if len(newFiles) > 0 {
				// Size the new files outside the lock (this worker
				// still counts as running, so nobody finishes early).
				w.cond.Broadcast()
				w.mu.Unlock()
				for i := range newFiles {
					newFiles[i].size = c.size(newFiles[i].name)
				}
				w.mu.Lock()
				for _, f := range newFiles {
					w.files.Push(f)
				}
			}
		}
		w.running--
		if name.Type == oid.DirTree {
			w.trees--
		}
		if err != nil {
			w.found = append(w.found, problem{name, err})
			if _, ok := err.(*CorruptError); ok && w.stop && (w.minCorrupt == nil || less(name, *w.minCorrupt)) {
				n := name
				w.minCorrupt = &n
			}
		}
		w.done++
		switch {
		case w.total > 0:
			w.report(progress.Event{Phase: PhaseObject, Done: int64(w.done), Total: int64(w.total)})
		case w.trees == 0:
			// Every object is known now: report the ones already done.
			w.total = len(w.seen)
			for i := 1; i <= w.done; i++ {
				w.report(progress.Event{Phase: PhaseObject, Done: int64(i), Total: int64(w.total)})
			}
		}
		w.cond.Broadcast()
	}
}
