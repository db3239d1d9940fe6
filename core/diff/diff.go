package diff

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"golang.org/x/sys/unix"
)

// ErrSpecialFile is returned when a file on disk is neither a regular file,
// a symlink nor a directory and has to be checksummed.
var ErrSpecialFile = errors.New("diff: cannot checksum a special file")

// Source is one side of a comparison.
type Source struct {
	repo       *repo.Repo
	tree, meta oid.Checksum
	dir        string
}

// Commit is the tree of a commit in r.
func Commit(ctx context.Context, r *repo.Repo, commit oid.Checksum) (Source, error) {
	c, err := r.LoadCommit(ctx, commit)
	if err != nil {
		return Source{}, err
	}
	return Source{repo: r, tree: c.RootTree, meta: c.RootMeta}, nil
}

// Tree is a dirtree/dirmeta pair in r (a subdirectory of a commit).
func Tree(r *repo.Repo, tree, meta oid.Checksum) Source {
	return Source{repo: r, tree: tree, meta: meta}
}

// Dir is a directory on disk.
func Dir(path string) Source { return Source{dir: path} }

// IsDir reports whether s is a directory on disk.
func (s Source) IsDir() bool { return s.repo == nil }

// Item is one difference. Path is absolute within the trees ("/usr/bin").
// Checksums are content checksums for files and dirmeta checksums for
// directories; they are zero where not computed (absent side, or a type
// change, for which ostree does not compare checksums).
type Item struct {
	Path           string
	Old, New       oid.Checksum
	OldDir, NewDir bool
}

// Result lists differences in ostree's order.
type Result struct {
	Modified, Removed, Added []Item
}

// Options tune the comparison.
type Options struct {
	// NoXattrs ignores extended attributes (--no-xattrs). It is implied
	// when a repository side has core.disable-xattrs or is bare-user-only.
	NoXattrs bool
	// OwnerUID and OwnerGID, when >= 0, replace the owner of files of the
	// new side read from disk (--owner-uid, --owner-gid).
	OwnerUID, OwnerGID int
}

// DefaultOptions keep owners as they are on disk.
func DefaultOptions() Options { return Options{OwnerUID: -1, OwnerGID: -1} }

type kind uint8

const (
	kindFile kind = iota // regular file or symlink (repo objects)
	kindReg
	kindLink
	kindDir
	kindSpecial
)

// entry is a child of a directory on either side.
type entry struct {
	name string
	kind kind
	sum  oid.Checksum // repo: content or dirmeta checksum
	tree oid.Checksum // repo directories
	path string       // disk
	st   *unix.Stat_t // disk
}

func (e *entry) isDir() bool { return e.kind == kindDir }

type differ struct {
	ctx    context.Context
	opts   Options
	ignore bool
	res    *Result
}

// Diff compares a (old) with b (new).
func Diff(ctx context.Context, a, b Source, opts Options) (*Result, error) {
	d := &differ{ctx: ctx, opts: opts, ignore: opts.NoXattrs, res: &Result{}}
	for _, s := range []Source{a, b} {
		if s.repo != nil && (s.repo.DisableXattrs() || s.repo.Mode() == repo.ModeBareUserOnly) {
			d.ignore = true
		}
	}
	if err := d.dirs(a, b, "/"); err != nil {
		return nil, err
	}
	return d.res, nil
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// list returns the children of a directory in enumeration order.
func (d *differ) list(s Source) ([]entry, error) {
	if s.repo != nil {
		dt, err := s.repo.LoadDirTree(d.ctx, s.tree)
		if err != nil {
			return nil, err
		}
		out := make([]entry, 0, len(dt.Files)+len(dt.Dirs))
		for _, f := range dt.Files {
			out = append(out, entry{name: f.Name, kind: kindFile, sum: f.Checksum})
		}
		for _, sd := range dt.Dirs {
			out = append(out, entry{name: sd.Name, kind: kindDir, sum: sd.Meta, tree: sd.Tree})
		}
		return out, nil
	}
	f, err := os.Open(s.dir)
	if err != nil {
		return nil, err
	}
	names, err := f.Readdirnames(-1) // readdir order, as GLib enumerates
	f.Close()
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(names))
	for _, n := range names {
		p := filepath.Join(s.dir, n)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return nil, &os.PathError{Op: "lstat", Path: p, Err: err}
		}
		k := kindSpecial
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			k = kindReg
		case unix.S_IFLNK:
			k = kindLink
		case unix.S_IFDIR:
			k = kindDir
		}
		out = append(out, entry{name: n, kind: k, path: p, st: &st})
	}
	// GLib's local enumerator reads entries in chunks of 1000 and sorts
	// each chunk by inode number; ostree diff prints in that order.
	for i := 0; i < len(out); i += globChunk {
		chunk := out[i:min(i+globChunk, len(out))]
		sort.SliceStable(chunk, func(x, y int) bool { return chunk[x].st.Ino < chunk[y].st.Ino })
	}
	return out, nil
}

const globChunk = 1000

func child(s Source, e *entry) Source {
	if s.repo != nil {
		return Source{repo: s.repo, tree: e.tree, meta: e.sum}
	}
	return Source{dir: e.path}
}

// dirs is ostree_diff_dirs_with_options for two directories.
func (d *differ) dirs(a, b Source, path string) error {
	if err := d.ctx.Err(); err != nil {
		return err
	}
	if a.repo != nil && b.repo != nil && a.tree == b.tree {
		return nil
	}
	as, err := d.list(a)
	if err != nil {
		return fmt.Errorf("diff: %s: %w", path, err)
	}
	bs, err := d.list(b)
	if err != nil {
		return fmt.Errorf("diff: %s: %w", path, err)
	}
	inB := make(map[string]*entry, len(bs))
	for i := range bs {
		inB[bs[i].name] = &bs[i]
	}
	inA := make(map[string]bool, len(as))
	for i := range as {
		ea := &as[i]
		inA[ea.name] = true
		p := join(path, ea.name)
		eb, ok := inB[ea.name]
		if !ok {
			it := Item{Path: p, OldDir: ea.isDir()}
			if a.repo != nil {
				it.Old = ea.sum
			}
			d.res.Removed = append(d.res.Removed, it)
			continue
		}
		if d.typeDiffers(ea, eb) {
			d.res.Modified = append(d.res.Modified, Item{Path: p, OldDir: ea.isDir(), NewDir: eb.isDir()})
			continue
		}
		sa, err := d.checksum(ea, false)
		if err != nil {
			return err
		}
		sb, err := d.checksum(eb, true)
		if err != nil {
			return err
		}
		if sa != sb {
			d.res.Modified = append(d.res.Modified, Item{Path: p, Old: sa, New: sb, OldDir: ea.isDir(), NewDir: eb.isDir()})
		}
		if ea.isDir() {
			if err := d.dirs(child(a, ea), child(b, eb), p); err != nil {
				return err
			}
		}
	}
	for i := range bs {
		eb := &bs[i]
		if inA[eb.name] {
			continue
		}
		p := join(path, eb.name)
		if err := d.added(b, eb, p); err != nil {
			return err
		}
	}
	return nil
}

// typeDiffers compares GFileTypes: a repo file is a regular file or a
// symlink, which its checksum distinguishes anyway.
func (d *differ) typeDiffers(a, b *entry) bool {
	if a.isDir() != b.isDir() {
		return true
	}
	if a.kind == kindFile || b.kind == kindFile {
		return a.kind == kindSpecial || b.kind == kindSpecial
	}
	return a.kind != b.kind
}

func (d *differ) added(s Source, e *entry, p string) error {
	it := Item{Path: p, NewDir: e.isDir()}
	if s.repo != nil {
		it.New = e.sum
	}
	d.res.Added = append(d.res.Added, it)
	if !e.isDir() {
		return nil
	}
	cs := child(s, e)
	kids, err := d.list(cs)
	if err != nil {
		return fmt.Errorf("diff: %s: %w", p, err)
	}
	for i := range kids {
		if err := d.added(cs, &kids[i], join(p, kids[i].name)); err != nil {
			return err
		}
	}
	return nil
}

// checksum is the object checksum of an entry: known for repo entries,
// computed for files and directories on disk.
func (d *differ) checksum(e *entry, newSide bool) (oid.Checksum, error) {
	if e.st == nil {
		return e.sum, nil
	}
	uid, gid := e.st.Uid, e.st.Gid
	if newSide && d.opts.OwnerUID >= 0 {
		uid = uint32(d.opts.OwnerUID)
	}
	if newSide && d.opts.OwnerGID >= 0 {
		gid = uint32(d.opts.OwnerGID)
	}
	var xs []object.Xattr
	if !d.ignore {
		fx, err := fsutil.ListXattrs(e.path)
		if err != nil {
			return oid.Checksum{}, fmt.Errorf("diff: %s: %w", e.path, err)
		}
		for _, x := range fx {
			xs = append(xs, object.Xattr{Name: x.Name, Value: x.Value})
		}
		object.SortXattrs(xs)
	}
	switch e.kind {
	case kindDir:
		m := &object.DirMeta{UID: uid, GID: gid, Mode: e.st.Mode, Xattrs: xs}
		return oid.Checksum(sha256.Sum256(m.Marshal())), nil
	case kindLink:
		t, err := os.Readlink(e.path)
		if err != nil {
			return oid.Checksum{}, fmt.Errorf("diff: %w", err)
		}
		h := &object.FileHeader{UID: uid, GID: gid, Mode: e.st.Mode, SymlinkTarget: t, Xattrs: xs}
		return object.ContentChecksum(h, nil)
	case kindReg:
		f, err := os.Open(e.path)
		if err != nil {
			return oid.Checksum{}, fmt.Errorf("diff: %w", err)
		}
		defer f.Close()
		h := &object.FileHeader{UID: uid, GID: gid, Mode: e.st.Mode, Xattrs: xs}
		sum, err := object.ContentChecksum(h, io.Reader(f))
		if err != nil {
			return oid.Checksum{}, fmt.Errorf("diff: %s: %w", e.path, err)
		}
		return sum, nil
	}
	return oid.Checksum{}, fmt.Errorf("%w: %s", ErrSpecialFile, e.path)
}
