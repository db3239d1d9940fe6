package inspect

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Entry is one path inside a commit with the attributes `ostree ls` shows.
type Entry struct {
	Path string // absolute inside the commit, "/" for the root
	Name string
	// Mode is the full st_mode (type bits included).
	Mode     uint32
	UID, GID uint32
	Size     int64  // payload size of regular files; 0 otherwise
	Target   string // symlink target
	Xattrs   []object.Xattr
	// Checksum is the content object of a file, or the dirmeta of a directory.
	Checksum oid.Checksum
	// Tree is the dirtree of a directory.
	Tree oid.Checksum
}

// IsDir reports whether e is a directory.
func (e *Entry) IsDir() bool { return e.Mode&object.ModeType == object.ModeDir }

// IsSymlink reports whether e is a symbolic link.
func (e *Entry) IsSymlink() bool { return e.Mode&object.ModeType == object.ModeLink }

// PathError says that a path does not exist inside a commit, or that one of
// its parents is not a directory.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string {
	switch e.Err {
	case ErrNotDir:
		return "Not a directory"
	case ErrIsDir:
		return "Can't open directory"
	}
	return "No such file or directory: " + e.Path
}
func (e *PathError) Unwrap() error { return e.Err }

// Root returns the root directory entry of a commit.
func Root(ctx context.Context, r *repo.Repo, commit oid.Checksum) (*Entry, error) {
	c, err := r.LoadCommit(ctx, commit)
	if err != nil {
		return nil, err
	}
	return dirEntry(ctx, r, "/", "", c.RootTree, c.RootMeta)
}

func dirEntry(ctx context.Context, r *repo.Repo, path, name string, tree, meta oid.Checksum) (*Entry, error) {
	m, err := r.LoadDirMeta(ctx, meta)
	if err != nil {
		return nil, err
	}
	return &Entry{Path: path, Name: name, Mode: m.Mode, UID: m.UID, GID: m.GID, Xattrs: m.Xattrs, Checksum: meta, Tree: tree}, nil
}

func fileEntry(ctx context.Context, r *repo.Repo, path, name string, sum oid.Checksum) (*Entry, error) {
	// Only the header is needed: the fast path reuses pooled inflaters.
	c, err := r.OpenContent(ctx, sum)
	if err != nil {
		return nil, err
	}
	c.Close()
	h := c.Header
	return &Entry{Path: path, Name: name, Mode: h.Mode, UID: h.UID, GID: h.GID, Size: c.Size, Target: h.SymlinkTarget, Xattrs: h.Xattrs, Checksum: sum}, nil
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// Lookup resolves path inside the commit whose root is root exactly as
// ostree's OstreeRepoFile does (g_file_resolve_relative_path): a leading "/"
// restarts at the root, components are taken literally ("." and ".." are
// names that never exist), "a//b" restarts at the root for "b", and
// symlinks are not followed. Errors carry ostree's messages and the path of
// the first component that failed.
func Lookup(ctx context.Context, r *repo.Repo, root *Entry, path string) (*Entry, error) {
	return walkNames(ctx, r, root, resolveNames(nil, path))
}

// resolveNames mirrors ostree_repo_file_resolve_relative_path on a list of
// names from the root (an empty list is the root itself).
func resolveNames(cur []string, rel string) []string {
	if strings.HasPrefix(rel, "/") {
		if rel == "/" {
			return []string{}
		}
		if len(cur) > 0 {
			return resolveNames(nil, rel[1:])
		}
		rel = rel[1:]
	}
	next := append(append([]string(nil), cur...), "")
	i := strings.IndexByte(rel, '/')
	if i < 0 {
		next[len(next)-1] = rel
		return next
	}
	next[len(next)-1] = rel[:i]
	return resolveNames(next, rel[i+1:])
}

func namesPath(names []string) string { return "/" + strings.Join(names, "/") }

// Node is what a path names inside a tree: a directory (Tree, Meta) or a
// file (File). Path is where it was found ("/" for the root).
type Node struct {
	Path, Name string
	IsFile     bool
	File       oid.Checksum
	Tree, Meta oid.Checksum
}

// ResolvePath resolves path below the directory (tree, meta) with
// Lookup's semantics (ostree's), reading dirtrees only: the one path
// resolver of the engine (ls, cat, checkout --subpath, export, the TUI).
func ResolvePath(ctx context.Context, r *repo.Repo, tree, meta oid.Checksum, path string) (Node, error) {
	return resolveNodes(ctx, r, tree, meta, resolveNames(nil, path))
}

func resolveNodes(ctx context.Context, r *repo.Repo, tree, meta oid.Checksum, names []string) (Node, error) {
	n := Node{Path: "/", Tree: tree, Meta: meta}
	for k, p := range names {
		full := namesPath(names[:k+1])
		if n.IsFile {
			return Node{}, &PathError{full, ErrNotDir}
		}
		t, err := r.LoadDirTree(ctx, n.Tree)
		if err != nil {
			return Node{}, err
		}
		f, d := t.Lookup(p)
		switch {
		case p == "":
			return Node{}, &PathError{full, ErrNotFound}
		case f != nil:
			n = Node{Path: full, Name: p, IsFile: true, File: f.Checksum}
		case d != nil:
			n = Node{Path: full, Name: p, Tree: d.Tree, Meta: d.Meta}
		default:
			return Node{}, &PathError{full, ErrNotFound}
		}
	}
	return n, nil
}

func walkNames(ctx context.Context, r *repo.Repo, root *Entry, names []string) (*Entry, error) {
	if len(names) == 0 {
		return root, nil
	}
	if !root.IsDir() {
		return nil, &PathError{namesPath(names[:1]), ErrNotDir}
	}
	n, err := resolveNodes(ctx, r, root.Tree, root.Checksum, names)
	if err != nil {
		return nil, err
	}
	if n.IsFile {
		return fileEntry(ctx, r, n.Path, n.Name, n.File)
	}
	return dirEntry(ctx, r, n.Path, n.Name, n.Tree, n.Meta)
}

// Children lists a directory in ostree's enumeration order: files sorted by
// name, then directories sorted by name.
func Children(ctx context.Context, r *repo.Repo, dir *Entry) ([]*Entry, error) {
	if !dir.IsDir() {
		return nil, &PathError{dir.Path, ErrNotDir}
	}
	t, err := r.LoadDirTree(ctx, dir.Tree)
	if err != nil {
		return nil, err
	}
	out := make([]*Entry, 0, len(t.Files)+len(t.Dirs))
	for _, f := range t.Files {
		e, err := fileEntry(ctx, r, join(dir.Path, f.Name), f.Name, f.Checksum)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	for _, d := range t.Dirs {
		e, err := dirEntry(ctx, r, join(dir.Path, d.Name), d.Name, d.Tree, d.Meta)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Walk calls fn for every entry below dir, depth first in ostree's order
// (each directory right before its contents); depth < 0 is unlimited,
// depth 1 lists only dir's children.
func Walk(ctx context.Context, r *repo.Repo, dir *Entry, depth int, fn func(*Entry) error) error {
	if depth == 0 {
		return nil
	}
	kids, err := Children(ctx, r, dir)
	if err != nil {
		return err
	}
	for _, k := range kids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
		if k.IsDir() {
			if err := Walk(ctx, r, k, depth-1, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// OpenPath opens the payload of a file inside a commit; a symlink is
// followed inside the commit, resolved against its parent directory, as
// ostree's OstreeRepoFile read does (up to 40 hops, where ostree recurses
// without limit).
func OpenPath(ctx context.Context, r *repo.Repo, root *Entry, path string) (io.ReadCloser, error) {
	names := resolveNames(nil, path)
	for hops := 0; hops < 40; hops++ {
		e, err := walkNames(ctx, r, root, names)
		if err != nil {
			return nil, err
		}
		if e.IsDir() {
			return nil, &PathError{e.Path, ErrIsDir}
		}
		if !e.IsSymlink() {
			c, err := r.OpenContent(ctx, e.Checksum)
			if err != nil {
				return nil, err
			}
			return c, nil
		}
		names = resolveNames(names[:len(names)-1], e.Target)
	}
	return nil, fmt.Errorf("inspect: %s: too many levels of symbolic links", path)
}
