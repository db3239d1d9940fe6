//go:build linux

package rofiles

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// tree is the state shared by every node of one mount.
type tree struct {
	fs.LoopbackRoot

	copyup bool
	// copyupMu serializes copy-ups, so that two writers racing to break
	// the same hardlink end up sharing one copy instead of one of them
	// writing to a copy the other renamed away.
	copyupMu sync.Mutex
	// gen hands out a distinct StableAttr.Gen to every node, so that two
	// hardlinks of one underlying inode become two FUSE nodes (see
	// newAttr).
	gen atomic.Uint64
	// asRoot is set when the daemon runs as uid 0: new files are then
	// chowned to the caller, like go-fuse's loopback and a kernel would.
	asRoot bool
}

// node is one name in the mount. It embeds go-fuse's loopback node for the
// operations that only read (lookup-free getattr, readdir, readlink,
// getxattr, listxattr, statfs, unlink, rmdir) and overrides everything that
// creates nodes or could modify an existing file.
type node struct {
	fs.LoopbackNode
	t *tree
}

func (t *tree) newNode() *node {
	return &node{LoopbackNode: fs.LoopbackNode{RootData: &t.LoopbackRoot}, t: t}
}

// newAttr returns the identity of a node for st. The inode number is the
// underlying one (mixed with the device like go-fuse's loopback does, so it
// stays the real st_ino on a single file system), but every node gets its
// own generation. go-fuse keys nodes by (Ino, Gen), so each path is its own
// FUSE node, as in libfuse's high-level API that rofiles-fuse uses. That
// matters for hardlinks: the kernel's page cache and attributes are per
// node, so breaking the hardlink behind one name (--copyup) can never show
// new bytes under another name of the same object, and the path a write is
// checked or copied up under is always the one the caller opened.
func (t *tree) newAttr(st *syscall.Stat_t) fs.StableAttr {
	return fs.StableAttr{Mode: st.Mode & syscall.S_IFMT, Ino: t.ino(st), Gen: t.gen.Add(1)}
}

func (t *tree) ino(st *syscall.Stat_t) uint64 {
	swapped := (st.Dev << 32) | (st.Dev >> 32)
	rootDev := (t.Dev << 32) | (t.Dev >> 32)
	ino := (swapped ^ rootDev) ^ st.Ino
	if ino <= 1 || ino == ^uint64(0) { // reserved by go-fuse
		ino ^= 1 << 62
	}
	return ino
}

// path is the node's name in the underlying directory tree.
func (n *node) path() string {
	return filepath.Join(n.t.Path, n.Path(n.t.RootNode.EmbeddedInode()))
}

func (n *node) child(name string) string { return filepath.Join(n.path(), name) }

func (n *node) isRoot() bool { return n.EmbeddedInode() == n.t.RootNode.EmbeddedInode() }

// preserveOwner gives a file created by root on behalf of a caller the
// caller's uid and gid.
func (n *node) preserveOwner(ctx context.Context, p string) {
	if !n.t.asRoot {
		return
	}
	if caller, ok := fuse.FromContext(ctx); ok {
		_ = unix.Lchown(p, int(caller.Uid), int(caller.Gid))
	}
}

// newChild registers the node for an entry just looked up or created.
func (n *node) newChild(ctx context.Context, st *syscall.Stat_t) *fs.Inode {
	return n.NewInode(ctx, n.t.newNode(), n.t.newAttr(st))
}

var (
	_ fs.NodeLookuper      = (*node)(nil)
	_ fs.NodeCreater       = (*node)(nil)
	_ fs.NodeOpener        = (*node)(nil)
	_ fs.NodeMkdirer       = (*node)(nil)
	_ fs.NodeMknoder       = (*node)(nil)
	_ fs.NodeSymlinker     = (*node)(nil)
	_ fs.NodeLinker        = (*node)(nil)
	_ fs.NodeRenamer       = (*node)(nil)
	_ fs.NodeSetattrer     = (*node)(nil)
	_ fs.NodeGetattrer     = (*node)(nil)
	_ fs.NodeStatxer       = (*node)(nil)
	_ fs.NodeSetxattrer    = (*node)(nil)
	_ fs.NodeRemovexattrer = (*node)(nil)
	_ fs.NodeTmpfiler      = (*node)(nil)
)

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	var st syscall.Stat_t
	if err := syscall.Lstat(n.child(name), &st); err != nil {
		return nil, fs.ToErrno(err)
	}
	out.Attr.FromStat(&st)
	// Keep the node the kernel already knows for this name as long as the
	// name still refers to the same underlying inode. If the file was
	// replaced (renamed over in SOURCE, or its hardlink broken by
	// --copyup), hand out a fresh node so no cached data or attributes of
	// the old file are reused.
	if ch := n.GetChild(name); ch != nil {
		a := ch.StableAttr()
		if a.Ino == n.t.ino(&st) && a.Mode == st.Mode&syscall.S_IFMT {
			return ch, 0
		}
	}
	return n.newChild(ctx, &st), 0
}

func (n *node) Getattr(ctx context.Context, f fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if f != nil {
		if fga, ok := f.(fs.FileGetattrer); ok {
			return fga.Getattr(ctx, out)
		}
	}
	var st syscall.Stat_t
	var err error
	if n.isRoot() {
		err = syscall.Stat(n.path(), &st)
	} else {
		err = syscall.Lstat(n.path(), &st)
	}
	if err != nil {
		return fs.ToErrno(err)
	}
	out.FromStat(&st)
	return 0
}

func (n *node) Statx(ctx context.Context, f fs.FileHandle, flags uint32, mask uint32, out *fuse.StatxOut) syscall.Errno {
	if f != nil {
		if fsx, ok := f.(fs.FileStatxer); ok {
			return fsx.Statx(ctx, flags, mask, out)
		}
	}
	// Never follow a symlink of SOURCE: an absolute target would resolve
	// on the host, outside the mount.
	fl := int(flags) | unix.AT_SYMLINK_NOFOLLOW
	if n.isRoot() {
		fl &^= unix.AT_SYMLINK_NOFOLLOW
	}
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, n.path(), fl, int(mask), &st); err != nil {
		return fs.ToErrno(err)
	}
	out.FromStatx(&st)
	return 0
}

// isWrite reports whether open flags could modify the file's contents.
func isWrite(flags uint32) bool {
	return flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	p := n.path()
	if isWrite(flags) {
		if errno := n.t.verifyWriteOrCopyup(p); errno != 0 {
			return nil, 0, errno
		}
	}
	flags &^= syscall.O_APPEND | fuse.FMODE_EXEC | syscall.O_CREAT | syscall.O_EXCL
	fd, err := syscall.Open(p, int(flags)|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, fs.ToErrno(err)
	}
	return fs.NewLoopbackFile(fd), 0, 0
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	p := n.child(name)
	// The name may exist after all (created behind the kernel's back);
	// opening it for write must then pass the same check as Open.
	if flags&syscall.O_EXCL == 0 && isWrite(flags) {
		if errno := n.t.verifyWriteOrCopyup(p); errno != 0 {
			return nil, nil, 0, errno
		}
	}
	flags &^= syscall.O_APPEND | fuse.FMODE_EXEC
	fd, err := syscall.Open(p, int(flags)|syscall.O_CREAT|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, mode)
	if err != nil {
		return nil, nil, 0, fs.ToErrno(err)
	}
	n.preserveOwner(ctx, p)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, nil, 0, fs.ToErrno(err)
	}
	out.FromStat(&st)
	return n.newChild(ctx, &st), fs.NewLoopbackFile(fd), 0, 0
}

// Tmpfile is refused so that callers fall back to a named temporary file:
// a nameless node cannot be checked or copied up by path, and LINK of it
// into place is not supported by the loopback either. rofiles-fuse (libfuse
// high-level API) has no O_TMPFILE support at all.
func (n *node) Tmpfile(ctx context.Context, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EOPNOTSUPP
}

// Mknod is refused like rofiles-fuse does: ostree never needs device nodes
// or FIFOs in a build root.
func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	p := n.child(name)
	if err := syscall.Mkdir(p, mode); err != nil {
		return nil, fs.ToErrno(err)
	}
	n.preserveOwner(ctx, p)
	return n.entry(ctx, p, out, syscall.Rmdir)
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	p := n.child(name)
	if err := syscall.Symlink(target, p); err != nil {
		return nil, fs.ToErrno(err)
	}
	n.preserveOwner(ctx, p)
	return n.entry(ctx, p, out, syscall.Unlink)
}

func (n *node) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	tn, ok := target.(*node)
	if !ok || tn.t != n.t {
		return nil, syscall.EXDEV
	}
	if _, parent := tn.Parent(); parent == nil && !tn.isRoot() {
		return nil, syscall.EXDEV // unlinked or nameless
	}
	p := n.child(name)
	if err := syscall.Link(tn.path(), p); err != nil {
		return nil, fs.ToErrno(err)
	}
	return n.entry(ctx, p, out, syscall.Unlink)
}

// entry stats a just created name and returns its node; undo removes the
// name again when that fails.
func (n *node) entry(ctx context.Context, p string, out *fuse.EntryOut, undo func(string) error) (*fs.Inode, syscall.Errno) {
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		_ = undo(p)
		return nil, fs.ToErrno(err)
	}
	out.Attr.FromStat(&st)
	return n.newChild(ctx, &st), 0
}

// Rename replaces directory entries only, which never modifies a file's
// contents, so it is passed through as rofiles-fuse does (renameat2 with
// the caller's flags).
func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	np, ok := newParent.(*node)
	if !ok || np.t != n.t {
		return syscall.EXDEV
	}
	err := unix.Renameat2(unix.AT_FDCWD, n.child(name), unix.AT_FDCWD, np.child(newName), uint(flags))
	return fs.ToErrno(err)
}

// Setattr refuses to change the size, mode or owner of a hardlinked file
// (or copies it up first with --copyup). Timestamps may always be set, as
// in rofiles-fuse: ostree does not checksum them.
func (n *node) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	p := n.path()
	_, modeOK := in.GetMode()
	_, uidOK := in.GetUID()
	_, gidOK := in.GetGID()
	_, sizeOK := in.GetSize()
	modifies := modeOK || uidOK || gidOK || sizeOK

	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		if err == syscall.ENOENT && f != nil {
			// The name is gone but the caller holds it open (e.g.
			// ftruncate after unlink): judge and act on the handle.
			return n.setattrHandle(ctx, f, in, out, modifies)
		}
		return fs.ToErrno(err)
	}
	if modifies {
		if errno := n.t.verifyWriteOrCopyup(p); errno != 0 {
			return errno
		}
	}

	if m, ok := in.GetMode(); ok {
		if err := unix.Fchmodat(unix.AT_FDCWD, p, m&07777, 0); err != nil {
			return fs.ToErrno(err)
		}
	}
	uid, uok := in.GetUID()
	gid, gok := in.GetGID()
	if uok || gok {
		su, sg := -1, -1
		if uok {
			su = int(uid)
		}
		if gok {
			sg = int(gid)
		}
		if err := unix.Fchownat(unix.AT_FDCWD, p, su, sg, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fs.ToErrno(err)
		}
	}
	// Truncate before setting times, so an explicit mtime is not
	// clobbered by the truncate.
	if sz, ok := in.GetSize(); ok {
		if err := syscall.Truncate(p, int64(sz)); err != nil {
			return fs.ToErrno(err)
		}
	}
	if errno := setTimes(in, func(ts []unix.Timespec) error {
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	}); errno != 0 {
		return errno
	}
	if err := syscall.Lstat(p, &st); err != nil {
		return fs.ToErrno(err)
	}
	out.FromStat(&st)
	return 0
}

func (n *node) setattrHandle(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut, modifies bool) syscall.Errno {
	fsa, ok := f.(fs.FileSetattrer)
	if !ok {
		return syscall.ENOENT
	}
	if modifies {
		var a fuse.AttrOut
		if fga, ok := f.(fs.FileGetattrer); ok {
			if errno := fga.Getattr(ctx, &a); errno != 0 {
				return errno
			}
			if a.Mode&syscall.S_IFMT == syscall.S_IFREG && a.Nlink > 1 {
				return syscall.EROFS // cannot copy up a nameless file
			}
		}
	}
	return fsa.Setattr(ctx, in, out)
}

func setTimes(in *fuse.SetAttrIn, set func([]unix.Timespec) error) syscall.Errno {
	mtime, mok := in.GetMTime()
	atime, aok := in.GetATime()
	if !mok && !aok {
		return 0
	}
	ta := unix.Timespec{Nsec: unix.UTIME_OMIT}
	tm := unix.Timespec{Nsec: unix.UTIME_OMIT}
	var err error
	if aok {
		if ta, err = unix.TimeToTimespec(atime); err != nil {
			return fs.ToErrno(err)
		}
	}
	if mok {
		if tm, err = unix.TimeToTimespec(mtime); err != nil {
			return fs.ToErrno(err)
		}
	}
	return fs.ToErrno(set([]unix.Timespec{ta, tm}))
}

func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	p := n.path()
	if errno := n.t.verifyWriteOrCopyup(p); errno != 0 {
		return errno
	}
	return fs.ToErrno(unix.Lsetxattr(p, attr, data, int(flags)))
}

// Removexattr is checked like Setxattr. (rofiles-fuse forgets to check it,
// which lets an xattr of a repo object be removed through the mount.)
func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	p := n.path()
	if errno := n.t.verifyWriteOrCopyup(p); errno != 0 {
		return errno
	}
	return fs.ToErrno(unix.Lremovexattr(p, attr))
}

// rootNode returns the node for the top of the mount.
func newTree(source string, copyup bool) (*node, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(source, &st); err != nil {
		return nil, err
	}
	t := &tree{copyup: copyup, asRoot: os.Geteuid() == 0}
	t.Path = source
	t.Dev = st.Dev
	root := t.newNode()
	t.RootNode = root
	return root, nil
}
