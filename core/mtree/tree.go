package mtree

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
)

// Errors returned by this package.
var (
	ErrUnsupported = errors.New("compose: unsupported file type")
	ErrConflict    = errors.New("compose: path conflict")
	ErrBadPath     = errors.New("compose: invalid path")
)

// Loader reads the objects that a tree from an existing commit is
// expanded from; *repo.Repo satisfies it.
type Loader interface {
	LoadDirTree(ctx context.Context, sum oid.Checksum) (*object.DirTree, error)
}

// Tree is a mutable directory: its dirmeta checksum plus named files
// (content checksums) and subdirectories. A subtree taken from an existing
// commit stays unexpanded (just its checksums) until something changes in it.
type Tree struct {
	Meta  oid.Checksum
	files map[string]oid.Checksum
	dirs  map[string]*Tree

	// base is the dirtree this tree was taken from, while unexpanded.
	base     oid.Checksum
	expanded bool
}

// New returns an empty tree with the given dirmeta.
func New(meta oid.Checksum) *Tree {
	return &Tree{Meta: meta, files: map[string]oid.Checksum{}, dirs: map[string]*Tree{}, expanded: true}
}

// NewSized returns an empty tree with room for nfiles files and ndirs
// directories, for importers that fill a directory at once.
func NewSized(meta oid.Checksum, nfiles, ndirs int) *Tree {
	return &Tree{Meta: meta, files: make(map[string]oid.Checksum, nfiles), dirs: make(map[string]*Tree, ndirs), expanded: true}
}

// PutFile sets name to a content object in an expanded tree (no checks:
// importers decide what replaces what).
func (t *Tree) PutFile(name string, sum oid.Checksum) { t.files[name] = sum }

// PutDir sets name to a subdirectory in an expanded tree.
func (t *Tree) PutDir(name string, d *Tree) { t.dirs[name] = d }

// FileOf looks a file up in an expanded tree.
func (t *Tree) FileOf(name string) (oid.Checksum, bool) {
	sum, ok := t.files[name]
	return sum, ok
}

// DirOf looks a subdirectory up in an expanded tree (nil when absent).
func (t *Tree) DirOf(name string) *Tree { return t.dirs[name] }

// DirNames lists the subdirectories of an expanded tree (any order).
func (t *Tree) DirNames() []string {
	out := make([]string, 0, len(t.dirs))
	for n := range t.dirs {
		out = append(out, n)
	}
	return out
}

// From returns a tree standing for an existing dirtree/dirmeta pair.
func From(tree, meta oid.Checksum) *Tree {
	return &Tree{Meta: meta, base: tree}
}

// Expand loads an unexpanded tree's entries from its dirtree.
func (t *Tree) Expand(ctx context.Context, l Loader) error {
	if t.expanded {
		return nil
	}
	dt, err := l.LoadDirTree(ctx, t.base)
	if err != nil {
		return err
	}
	t.files = make(map[string]oid.Checksum, len(dt.Files))
	t.dirs = make(map[string]*Tree, len(dt.Dirs))
	for _, f := range dt.Files {
		t.files[f.Name] = f.Checksum
	}
	for _, d := range dt.Dirs {
		t.dirs[d.Name] = From(d.Tree, d.Meta)
	}
	t.expanded = true
	return nil
}

// Subdir returns the named child directory, or nil.
func (t *Tree) Subdir(ctx context.Context, l Loader, name string) (*Tree, error) {
	if err := t.Expand(ctx, l); err != nil {
		return nil, err
	}
	return t.dirs[name], nil
}

// EnsureDir returns the child directory name, creating it with meta when
// missing. An existing file of that name is a conflict unless replace.
func (t *Tree) EnsureDir(ctx context.Context, l Loader, name string, meta oid.Checksum, replace bool) (*Tree, error) {
	if err := t.Expand(ctx, l); err != nil {
		return nil, err
	}
	if d, ok := t.dirs[name]; ok {
		return d, nil
	}
	if _, ok := t.files[name]; ok {
		if !replace {
			return nil, fmt.Errorf("%w: %q is a file, not a directory", ErrConflict, name)
		}
		delete(t.files, name)
	}
	d := New(meta)
	t.dirs[name] = d
	return d, nil
}

// SetDir puts a whole subtree at name, replacing a file or directory there.
func (t *Tree) SetDir(ctx context.Context, l Loader, name string, d *Tree) error {
	if err := t.Expand(ctx, l); err != nil {
		return err
	}
	delete(t.files, name)
	t.dirs[name] = d
	return nil
}

// SetFile records a content object at name, replacing whatever was there.
func (t *Tree) SetFile(ctx context.Context, l Loader, name string, sum oid.Checksum) error {
	if err := t.Expand(ctx, l); err != nil {
		return err
	}
	delete(t.dirs, name)
	t.files[name] = sum
	return nil
}

// Remove deletes name, file or directory; it reports whether it existed.
func (t *Tree) Remove(ctx context.Context, l Loader, name string) (bool, error) {
	if err := t.Expand(ctx, l); err != nil {
		return false, err
	}
	_, f := t.files[name]
	_, d := t.dirs[name]
	delete(t.files, name)
	delete(t.dirs, name)
	return f || d, nil
}

// File returns the content checksum at name.
func (t *Tree) File(ctx context.Context, l Loader, name string) (oid.Checksum, bool, error) {
	if err := t.Expand(ctx, l); err != nil {
		return oid.Checksum{}, false, err
	}
	s, ok := t.files[name]
	return s, ok, nil
}

// Walk resolves a slash-separated path of directories below t.
func (t *Tree) Walk(ctx context.Context, l Loader, path string) (*Tree, error) {
	cur := t
	for _, c := range SplitPath(path) {
		next, err := cur.Subdir(ctx, l, c)
		if err != nil {
			return nil, err
		}
		if next == nil {
			return nil, fmt.Errorf("%w: no directory %q", ErrBadPath, path)
		}
		cur = next
	}
	return cur, nil
}

// SplitPath splits a relative path into components, dropping "." and
// empty parts.
func SplitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// Merge overlays src onto t: files replace, directories merge
// recursively (src's dirmeta wins), as successive --tree options do.
func (t *Tree) Merge(ctx context.Context, l Loader, src *Tree) error {
	if !src.expanded && t.isEmptyExpanded() {
		*t = *src
		return nil
	}
	if err := t.Expand(ctx, l); err != nil {
		return err
	}
	if err := src.Expand(ctx, l); err != nil {
		return err
	}
	t.Meta = src.Meta
	for name, sum := range src.files {
		delete(t.dirs, name)
		t.files[name] = sum
	}
	for name, sd := range src.dirs {
		if td, ok := t.dirs[name]; ok {
			if err := td.Merge(ctx, l, sd); err != nil {
				return err
			}
			continue
		}
		delete(t.files, name)
		t.dirs[name] = sd
	}
	return nil
}

func (t *Tree) isEmptyExpanded() bool {
	return t.expanded && len(t.files) == 0 && len(t.dirs) == 0
}

// MetaWriter stores metadata objects; *repo.Txn satisfies it.
type MetaWriter interface {
	WriteMeta(ctx context.Context, typ oid.ObjectType, data []byte) (oid.Checksum, error)
}

// Write serialises the tree bottom-up and returns the root dirtree
// checksum. Unexpanded subtrees are reused as they are. Subtrees are
// written on every core (w must be safe for concurrent use, as a
// repo.Txn is): a re-commit of an unchanged tree spends most of its time
// here after the walk, one dirtree after another otherwise.
func (t *Tree) Write(ctx context.Context, w MetaWriter) (oid.Checksum, error) {
	return t.write(ctx, w, make(chan struct{}, runtime.GOMAXPROCS(0)-1))
}

// write is Write with slots: one token per extra goroutine allowed.
func (t *Tree) write(ctx context.Context, w MetaWriter, slots chan struct{}) (oid.Checksum, error) {
	if !t.expanded {
		return t.base, nil
	}
	if err := ctx.Err(); err != nil {
		return oid.Checksum{}, err
	}
	// Buffers are reused: fresh memory costs a page fault per 4 KiB,
	// which made up much of this function's time. WriteMeta does not
	// keep the bytes it is given.
	b := writeBufs.Get().(*treeBufs)
	defer writeBufs.Put(b)
	dt := &object.DirTree{Files: b.files[:0], Dirs: b.dirs[:0]}
	for name, sum := range t.files {
		dt.Files = append(dt.Files, object.FileEntry{Name: name, Checksum: sum})
	}
	for name, d := range t.dirs {
		dt.Dirs = append(dt.Dirs, object.DirEntry{Name: name, Meta: d.Meta})
	}
	b.files, b.dirs = dt.Files, dt.Dirs
	var wg sync.WaitGroup
	errs := make([]error, len(dt.Dirs))
	for i := range dt.Dirs {
		e := &dt.Dirs[i]
		d := t.dirs[e.Name]
		select {
		case slots <- struct{}{}:
			wg.Go(func() {
				e.Tree, errs[i] = d.write(ctx, w, slots)
				<-slots
			})
		default:
			e.Tree, errs[i] = d.write(ctx, w, slots)
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return oid.Checksum{}, err // the first, in the order of the map
		}
	}
	slices.SortFunc(dt.Files, func(a, b object.FileEntry) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(dt.Dirs, func(a, b object.DirEntry) int { return strings.Compare(a.Name, b.Name) })
	b.out = dt.AppendMarshal(b.out[:0])
	return w.WriteMeta(ctx, oid.DirTree, b.out)
}

type treeBufs struct {
	files []object.FileEntry
	dirs  []object.DirEntry
	out   []byte
}

var writeBufs = sync.Pool{New: func() any { return new(treeBufs) }}

// Join appends name to a tree path ("/" for the root).
func Join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
