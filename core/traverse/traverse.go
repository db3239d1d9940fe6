package traverse

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
)

// Loader is what the walk needs from a repository; *repo.Repo satisfies it.
type Loader interface {
	LoadCommit(ctx context.Context, sum oid.Checksum) (*object.Commit, error)
	LoadDirTree(ctx context.Context, sum oid.Checksum) (*object.DirTree, error)
	HasObject(ctx context.Context, name oid.ObjectName) (bool, error)
	IsPartial(commit oid.Checksum) bool
}

// SkipDir, returned by a Visitor for a dirtree, skips that directory's
// contents; returned for a commit, it skips the commit's tree (its parents
// are still walked).
//
//lint:ignore ST1012 named like fs.SkipDir, which it mirrors
var SkipDir = errors.New("traverse: skip this directory")

// Visitor is called once per object reached. path is the directory path
// ("/" for the root, "/usr/bin" below) for dirtree and dirmeta objects, the
// file path for content objects and "" for commits.
type Visitor func(name oid.ObjectName, path string) error

// Walk visits commit (and depth parents; -1 = all history), depth-first in
// dirtree order, each object once. Missing parent commits end the walk.
func Walk(ctx context.Context, l Loader, commit oid.Checksum, depth int, fn Visitor) error {
	seen := map[oid.ObjectName]bool{}
	visit := func(name oid.ObjectName, path string) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		return fn(name, path)
	}
	var walkTree func(tree, meta oid.Checksum, path string, partial bool) error
	walkTree = func(tree, meta oid.Checksum, path string, partial bool) error {
		if err := visit(oid.ObjectName{Checksum: meta, Type: oid.DirMeta}, path); err != nil {
			return err
		}
		tn := oid.ObjectName{Checksum: tree, Type: oid.DirTree}
		if seen[tn] {
			return nil
		}
		err := visit(tn, path)
		if errors.Is(err, SkipDir) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		dt, err := l.LoadDirTree(ctx, tree)
		if err != nil {
			if partial && isMissing(ctx, l, tn) {
				return nil
			}
			return err
		}
		for _, f := range dt.Files {
			if err := visit(oid.ObjectName{Checksum: f.Checksum, Type: oid.File}, join(path, f.Name)); err != nil && !errors.Is(err, SkipDir) {
				return err
			}
		}
		for _, d := range dt.Dirs {
			if err := walkTree(d.Tree, d.Meta, join(path, d.Name), partial); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		cn := oid.ObjectName{Checksum: commit, Type: oid.Commit}
		if seen[cn] {
			return nil
		}
		c, err := loadCommitIfExists(ctx, l, commit)
		if err != nil || c == nil {
			return err
		}
		err = visit(cn, "")
		if err != nil && !errors.Is(err, SkipDir) {
			return err
		}
		if err == nil {
			if err := walkTree(c.RootTree, c.RootMeta, "/", l.IsPartial(commit)); err != nil {
				return err
			}
		}
		if depth == 0 || !c.HasParent() {
			return nil
		}
		if depth > 0 {
			depth--
		}
		commit = c.Parent
	}
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

func loadCommitIfExists(ctx context.Context, l Loader, sum oid.Checksum) (*object.Commit, error) {
	ok, err := l.HasObject(ctx, oid.ObjectName{Checksum: sum, Type: oid.Commit})
	if err != nil || !ok {
		return nil, err
	}
	return l.LoadCommit(ctx, sum)
}

func isMissing(ctx context.Context, l Loader, name oid.ObjectName) bool {
	ok, err := l.HasObject(ctx, name)
	return err == nil && !ok
}

// Set is the result of a reachability walk: every object reached and, for
// each, the objects that reference it (commits have none).
type Set struct {
	Objects map[oid.ObjectName]bool
	parents map[oid.ObjectName][]oid.ObjectName
}

// Commits lists the commits through which name was reached, sorted.
func (s *Set) Commits(name oid.ObjectName) []oid.Checksum {
	found := map[oid.Checksum]bool{}
	seen := map[oid.ObjectName]bool{}
	var up func(n oid.ObjectName)
	up = func(n oid.ObjectName) {
		if seen[n] {
			return
		}
		seen[n] = true
		if n.Type == oid.Commit {
			found[n.Checksum] = true
			return
		}
		for _, p := range s.parents[n] {
			up(p)
		}
	}
	up(name)
	out := make([]oid.Checksum, 0, len(found))
	for c := range found {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i][:]) < string(out[j][:]) })
	return out
}

// Sorted lists the reached objects in checksum then type order.
func (s *Set) Sorted() []oid.ObjectName {
	out := make([]oid.ObjectName, 0, len(s.Objects))
	for n := range s.Objects {
		out = append(out, n)
	}
	SortNames(out)
	return out
}

// SortNames orders object names by checksum, then type.
func SortNames(ns []oid.ObjectName) {
	sort.Slice(ns, func(i, j int) bool {
		if c := compare(ns[i].Checksum, ns[j].Checksum); c != 0 {
			return c < 0
		}
		return ns[i].Type < ns[j].Type
	})
}

func compare(a, b oid.Checksum) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Reachable returns every object reachable from commits, following depth
// parents of each (-1 = all). Dirtrees are loaded in parallel.
func Reachable(ctx context.Context, l Loader, commits []oid.Checksum, depth int) (map[oid.ObjectName]bool, error) {
	s, err := ReachableSet(ctx, l, commits, depth, Options{})
	if err != nil {
		return nil, err
	}
	return s.Objects, nil
}

// Options tune ReachableSet.
type Options struct {
	// CommitOnly records commits only, without their trees (prune
	// --commit-only).
	CommitOnly bool
	// Parents records referrers so that Set.Commits works.
	Parents bool
	// Into adds to an existing set instead of starting a new one.
	Into *Set
	// Tolerant keeps going when a dirtree cannot be loaded (missing or
	// malformed): it stays in the set, unexpanded, for fsck to report.
	Tolerant bool
}

type walker struct {
	ctx     context.Context
	l       Loader
	opts    Options
	mu      sync.Mutex
	set     *Set
	sem     chan struct{}
	wg      sync.WaitGroup
	errOnce sync.Once
	err     error
}

// ReachableSet is Reachable with referrers and options.
func ReachableSet(ctx context.Context, l Loader, commits []oid.Checksum, depth int, opts Options) (*Set, error) {
	set := opts.Into
	if set == nil {
		set = &Set{Objects: map[oid.ObjectName]bool{}, parents: map[oid.ObjectName][]oid.ObjectName{}}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &walker{ctx: ctx, l: l, opts: opts, set: set, sem: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
	for _, c := range commits {
		if err := w.commitChain(c, depth); err != nil {
			w.fail(err)
			break
		}
	}
	w.wg.Wait()
	cancel()
	if w.err != nil {
		return nil, w.err
	}
	return set, nil
}

func (w *walker) fail(err error) {
	w.errOnce.Do(func() { w.err = err })
}

// add records name (with referrer parent, if any) and reports whether it
// is new.
func (w *walker) add(name, parent oid.ObjectName, hasParent bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if hasParent && w.opts.Parents {
		ps := w.set.parents[name]
		dup := false
		for _, p := range ps {
			if p == parent {
				dup = true
				break
			}
		}
		if !dup {
			w.set.parents[name] = append(ps, parent)
		}
	}
	if w.set.Objects[name] {
		return false
	}
	w.set.Objects[name] = true
	return true
}

// commitChain follows one commit and its parents sequentially (each
// parent is only known once the child is loaded); trees go to workers.
func (w *walker) commitChain(commit oid.Checksum, depth int) error {
	for {
		cn := oid.ObjectName{Checksum: commit, Type: oid.Commit}
		w.mu.Lock()
		done := w.set.Objects[cn]
		w.mu.Unlock()
		if done {
			return nil
		}
		c, err := loadCommitIfExists(w.ctx, w.l, commit)
		if err != nil || c == nil {
			return err
		}
		w.add(cn, oid.ObjectName{}, false)
		if !w.opts.CommitOnly {
			partial := w.l.IsPartial(commit)
			w.add(oid.ObjectName{Checksum: c.RootMeta, Type: oid.DirMeta}, cn, true)
			tn := oid.ObjectName{Checksum: c.RootTree, Type: oid.DirTree}
			if w.add(tn, cn, true) {
				w.spawn(tn, partial)
			}
		}
		if depth == 0 || !c.HasParent() {
			return nil
		}
		if depth > 0 {
			depth--
		}
		commit = c.Parent
	}
}

func (w *walker) spawn(tn oid.ObjectName, partial bool) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if err := w.tree(tn, partial); err != nil {
			w.fail(err)
		}
	}()
}

func (w *walker) tree(tn oid.ObjectName, partial bool) error {
	select {
	case w.sem <- struct{}{}:
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
	dt, err := w.l.LoadDirTree(w.ctx, tn.Checksum)
	<-w.sem
	if err != nil {
		if w.opts.Tolerant || (partial && isMissing(w.ctx, w.l, tn)) {
			return nil
		}
		return fmt.Errorf("traverse: %w", err)
	}
	for _, f := range dt.Files {
		w.add(oid.ObjectName{Checksum: f.Checksum, Type: oid.File}, tn, true)
	}
	for _, d := range dt.Dirs {
		w.add(oid.ObjectName{Checksum: d.Meta, Type: oid.DirMeta}, tn, true)
		sub := oid.ObjectName{Checksum: d.Tree, Type: oid.DirTree}
		if w.add(sub, tn, true) {
			w.spawn(sub, partial)
		}
	}
	return nil
}
