package checkout

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"sync"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"golang.org/x/sys/unix"
)

// doFile checks out one content object at rel: a hardlink into the
// repository when the modes allow it, else a copy.
func (co *checkouter) doFile(j fileJob) error {
	if err := object.ValidateName(path.Base(j.rel)); err != nil {
		return fmt.Errorf("checkout: %s: %w", co.abs(j.rel), err)
	}
	if co.linkable && !co.opts.ForceCopy {
		done, err := co.tryLink(j)
		if err != nil || done {
			return err
		}
	}
	return co.copyFile(j)
}

func objName(j fileJob) oid.ObjectName { return oid.ObjectName{Checksum: j.sum, Type: oid.File} }

// tryLink hardlinks the loose object; it reports false when the file must
// be copied instead (empty and user-unreadable files, bare-user symlinks,
// objects only in a parent repository, link limits).
func (co *checkouter) tryLink(j fileJob) (bool, error) {
	name := objName(j)
	if co.mode == repo.ModeBareUser {
		return co.tryLinkBareUser(j, name)
	}
	var st unix.Stat_t
	if err := co.objs.Stat(name, &st); err != nil {
		if err == unix.ENOENT {
			return false, nil
		}
		return false, fmt.Errorf("checkout: stat object %s: %w", j.sum, err)
	}
	isLnk := st.Mode&unix.S_IFMT == unix.S_IFLNK
	switch co.mode {
	case repo.ModeBareUserOnly:
		if isLnk {
			var b [4096]byte
			n, err := co.objs.Readlink(name, b[:])
			if err != nil || n >= len(b) {
				return false, nil
			}
			return true, co.userSymlink(j, string(b[:n]))
		}
		if st.Size == 0 || st.Mode&unix.S_IRUSR == 0 {
			return false, nil
		}
	default: // bare, not user mode
		if !isLnk && st.Size == 0 {
			return false, nil
		}
	}
	return co.link(name, j)
}

// tryLinkBareUser is tryLink for bare-user repositories, where symlinks
// are stored as regular files and the real type and mode live in
// user.ostreemeta: that attribute is all it reads before linking.
// Whether the object is empty (ostree copies empty files) follows from
// its name: an empty file with this metadata has exactly one checksum.
func (co *checkouter) tryLinkBareUser(j fileJob, name oid.ObjectName) (bool, error) {
	small := metaBufs.Get().(*[256]byte)
	defer metaBufs.Put(small)
	buf := small[:]
	n, err := co.objs.UserMeta(name, buf)
	if err == unix.ERANGE {
		buf = make([]byte, 64<<10)
		n, err = co.objs.UserMeta(name, buf)
	}
	if err != nil || n < 12 {
		return false, nil // missing here (parent repository) or odd: the copy path decides
	}
	meta := buf[:n]
	mode := binary.BigEndian.Uint32(meta[8:12])
	switch {
	case mode&unix.S_IFMT == unix.S_IFLNK:
		// The object holds the target plus a NUL.
		fd, err := co.objs.Open(name)
		if err != nil {
			return false, nil
		}
		var b [4097]byte
		n, err := unix.Read(fd, b[:])
		unix.Close(fd)
		if err != nil || n < 2 || n == len(b) || b[n-1] != 0 {
			return false, nil
		}
		return true, co.userSymlink(j, string(b[:n-1]))
	case mode&unix.S_IFMT != unix.S_IFREG || mode&unix.S_IRUSR == 0:
		return false, nil
	}
	if empty, known := co.emptyObject(meta, j.sum); !known {
		var st unix.Stat_t
		if err := co.objs.Stat(name, &st); err != nil || st.Size == 0 {
			return false, nil
		}
	} else if empty {
		return false, nil
	}
	return co.link(name, j)
}

// metaBufs hold user.ostreemeta values: a buffer handed to getxattrat
// escapes, and one per file was most of a hardlink checkout's garbage.
var metaBufs = sync.Pool{New: func() any { return new([256]byte) }}

// emptyObject says whether sum names the empty regular file with the
// given user.ostreemeta (owner, mode, xattrs); known is false when the
// attribute does not decode.
func (co *checkouter) emptyObject(meta []byte, sum oid.Checksum) (empty, known bool) {
	co.emptyMu.Lock()
	e, ok := co.emptySums[string(meta)]
	co.emptyMu.Unlock()
	if !ok {
		dm, ok := object.DecodeDirMetaLayout(meta)
		if !ok {
			return false, false
		}
		hdr := &object.FileHeader{UID: dm.UID, GID: dm.GID, Mode: dm.Mode, Xattrs: dm.Xattrs}
		s, err := object.ContentChecksum(hdr, bytes.NewReader(nil))
		if err != nil {
			return false, false
		}
		e = s
		co.emptyMu.Lock()
		if co.emptySums == nil {
			co.emptySums = map[string]oid.Checksum{}
		}
		co.emptySums[string(meta)] = e
		co.emptyMu.Unlock()
	}
	return e == sum, true
}

// userSymlink creates a symlink in user mode (no owner, no xattrs), the
// way ostree copies symlinks out of bare-user[-only] repositories.
func (co *checkouter) userSymlink(j fileJob, target string) error {
	co.prog.copied.Add(1)
	return co.copySymlink(j, &object.FileHeader{Mode: unix.S_IFLNK | 0o777, SymlinkTarget: target}, nil)
}

func (co *checkouter) link(src oid.ObjectName, j fileJob) (bool, error) {
	dfd, dname := co.at(j)
	err := co.objs.Link(src, dfd, dname)
	switch err {
	case nil:
		co.prog.linked.Add(1)
		return true, nil
	case unix.EMLINK, unix.EXDEV, unix.EPERM:
		if co.opts.RequireHardlinks {
			return false, fmt.Errorf("%w: hardlinking %s to %s: %w", ErrHardlink, j.sum, co.abs(j.rel), err)
		}
		return false, nil
	case unix.ENOENT:
		return false, nil
	case unix.EEXIST:
	default:
		return false, fmt.Errorf("checkout: hardlinking %s to %s: %w", j.sum, co.abs(j.rel), err)
	}
	switch co.opts.Mode {
	case OverwriteNone:
		return false, fmt.Errorf("%w: hardlinking %s to %s", ErrExists, j.sum, co.abs(j.rel))
	case OverwriteUnionAdd:
		return true, nil
	}
	var a, b unix.Stat_t
	if err := co.objs.Stat(src, &a); err != nil {
		return false, fmt.Errorf("checkout: stat object %s: %w", j.sum, err)
	}
	if err := unix.Fstatat(dfd, dname, &b, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return false, fmt.Errorf("checkout: stat %s: %w", co.abs(j.rel), err)
	}
	if a.Dev == b.Dev && a.Ino == b.Ino {
		return true, nil
	}
	same, err := co.sameContent(j, &b)
	if err != nil {
		return false, err
	}
	if same {
		return true, nil
	}
	if co.opts.Mode == OverwriteUnionIdentical {
		return false, fmt.Errorf("%w: %s (want %s)", ErrNotIdentic, co.abs(j.rel), j.sum)
	}
	// --union: link under a temporary name, then rename over the old file.
	tmp := co.tmpAt(j)
	if err := co.objs.Link(src, dfd, tmp); err != nil {
		return false, fmt.Errorf("checkout: hardlinking %s to %s: %w", j.sum, co.abs(tmp), err)
	}
	if co.opts.Whiteouts {
		if err := os.RemoveAll(co.abs(j.rel)); err != nil {
			unix.Unlinkat(dfd, tmp, 0)
			return false, fmt.Errorf("checkout: %w", err)
		}
	}
	if err := unix.Renameat(dfd, tmp, dfd, dname); err != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return false, fmt.Errorf("checkout: replacing %s: %w", co.abs(j.rel), err)
	}
	co.prog.linked.Add(1)
	return true, nil
}

// tmpAt is a temporary name next to j, relative to where co.at(j) operates.
func (co *checkouter) tmpAt(j fileJob) string {
	if j.dir != nil {
		return path.Base(co.tmpName(j.name))
	}
	return co.tmpName(j.rel)
}

func (co *checkouter) tmpName(rel string) string {
	dir := path.Dir(rel)
	name := ".grove-checkout-" + strconv.FormatInt(int64(os.Getpid()), 36) + "-" + strconv.FormatInt(co.tmpSeq.Add(1), 36)
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// sameContent reports whether the file at j.rel hashes to j.sum, with the
// repository's view of metadata (bare-user-only ignores xattrs and owners).
func (co *checkouter) sameContent(j fileJob, st *unix.Stat_t) (bool, error) {
	name := co.abs(j.rel)
	hdr := &object.FileHeader{UID: st.Uid, GID: st.Gid, Mode: st.Mode}
	var payload io.Reader
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		t, err := os.Readlink(name)
		if err != nil {
			return false, fmt.Errorf("checkout: %w", err)
		}
		hdr.SymlinkTarget = t
	case unix.S_IFREG:
		f, err := os.Open(name)
		if err != nil {
			return false, fmt.Errorf("checkout: %w", err)
		}
		defer f.Close()
		payload = f
	default:
		return false, nil
	}
	if co.mode == repo.ModeBareUserOnly {
		hdr.UID, hdr.GID = 0, 0
		if !hdr.IsSymlink() {
			hdr.Mode &= unix.S_IFREG | 0o755
		}
	} else if !co.noXattrs {
		xs, err := fsutil.ListXattrs(name)
		if err != nil {
			return false, fmt.Errorf("checkout: %s: %w", name, err)
		}
		for _, x := range xs {
			hdr.Xattrs = append(hdr.Xattrs, object.Xattr{Name: x.Name, Value: x.Value})
		}
	}
	sum, err := object.ContentChecksum(hdr, payload)
	if err != nil {
		return false, fmt.Errorf("checkout: checksum %s: %w", name, err)
	}
	return sum == j.sum, nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyFile writes the object as a new file or symlink with its final mode
// and, unless in user mode, its owner and xattrs.
func (co *checkouter) copyFile(j fileJob) error {
	c, err := co.r.OpenContent(co.ctx, j.sum)
	if err != nil {
		return fmt.Errorf("checkout: %s: %w", co.abs(j.rel), err)
	}
	defer c.Close()
	hdr := c.Header
	isLnk := hdr.IsSymlink()
	zero := !isLnk && c.Size == 0
	unreadable := !isLnk && co.opts.User && hdr.Mode&unix.S_IRUSR == 0
	if co.opts.RequireHardlinks && !zero && !unreadable && !(co.userModeR && isLnk) {
		msg := "bare repository mode cannot hardlink in user checkout mode"
		if co.userModeR {
			msg = "user repository mode requires user checkout mode to hardlink"
		}
		return fmt.Errorf("%w: %s: %s", ErrHardlink, co.abs(j.rel), msg)
	}
	dfd, dname := co.at(j)
	xattrs := hdr.Xattrs
	if co.noXattrs {
		xattrs = nil
	}
	co.prog.copied.Add(1)
	if isLnk {
		return co.copySymlink(j, hdr, xattrs)
	}
	mode := hdr.Mode & 0o7777
	if co.opts.User {
		mode &^= unix.S_ISUID | unix.S_ISGID
	}
	if unreadable {
		mode |= unix.S_IRUSR
	}
	if co.opts.Mode == OverwriteUnionIdentical {
		var st unix.Stat_t
		if err := unix.Fstatat(dfd, dname, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
			same, err := co.sameContent(j, &st)
			if err != nil {
				return err
			}
			if same {
				return nil
			}
			return fmt.Errorf("%w: %s (want %s)", ErrNotIdentic, co.abs(j.rel), j.sum)
		}
	}
	target := dname
	if co.opts.Mode == OverwriteUnion {
		target = co.tmpAt(j)
	}
	// In user mode nothing changes the mode after the data is written, so
	// a file whose mode survives the umask is created with it: no fchmod.
	createMode, chmod := uint32(0o600), true
	if co.opts.User && mode&0o7000 == 0 && mode&co.umask == 0 && co.umaskOK {
		createMode, chmod = mode, false
	}
	fd, err := unix.Openat(dfd, target, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, createMode)
	if err == unix.EEXIST && co.opts.Mode == OverwriteUnionAdd {
		return nil
	}
	if err == unix.EEXIST {
		return fmt.Errorf("%w: %s", ErrExists, co.abs(target))
	}
	if err != nil {
		return fmt.Errorf("checkout: create %s: %w", co.abs(target), err)
	}
	if err := co.writeRegular(fd, c, hdr, xattrs, mode, chmod); err != nil {
		unix.Close(fd)
		unix.Unlinkat(dfd, target, 0)
		return fmt.Errorf("checkout: %s (%s): %w", co.abs(j.rel), j.sum, err)
	}
	if err := unix.Close(fd); err != nil {
		unix.Unlinkat(dfd, target, 0)
		return fmt.Errorf("checkout: %s: %w", co.abs(j.rel), err)
	}
	if target != dname {
		if co.opts.Whiteouts {
			if err := os.RemoveAll(co.abs(j.rel)); err != nil {
				unix.Unlinkat(dfd, target, 0)
				return fmt.Errorf("checkout: %w", err)
			}
		}
		if err := unix.Renameat(dfd, target, dfd, dname); err != nil {
			unix.Unlinkat(dfd, target, 0)
			return fmt.Errorf("checkout: replacing %s: %w", co.abs(j.rel), err)
		}
	}
	return nil
}

func (co *checkouter) writeRegular(fd int, c *repo.Content, hdr *object.FileHeader, xattrs []object.Xattr, mode uint32, chmod bool) error {
	n, err := copyToFd(fd, c.ReadCloser)
	co.prog.bytes.Add(n)
	if err != nil {
		return err
	}
	if n != c.Size {
		return fmt.Errorf("%w: wrote %d bytes, object says %d", object.ErrMalformed, n, c.Size)
	}
	if !co.opts.User {
		if err := unix.Fchown(fd, int(hdr.UID), int(hdr.GID)); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
		for _, x := range xattrs {
			if err := fsutil.FSetXattr(fd, x.Name, x.Value); err != nil {
				return fmt.Errorf("setxattr %s: %w", x.Name, err)
			}
		}
	}
	if chmod {
		if err := unix.Fchmod(fd, mode); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	if co.opts.Fsync {
		if err := unix.Fsync(fd); err != nil {
			return fmt.Errorf("fsync: %w", err)
		}
	}
	return nil
}

// copyToFd copies src to the descriptor: copy_file_range (reflinks where
// the filesystem can) from files, pooled buffers otherwise.
func copyToFd(fd int, src io.Reader) (int64, error) {
	var srcfd = -1
	switch s := src.(type) {
	case *os.File:
		srcfd = int(s.Fd())
	case interface{ FD() int }:
		srcfd = s.FD()
	}
	var n int64
	if srcfd >= 0 {
		for {
			m, err := unix.CopyFileRange(srcfd, nil, fd, nil, 1<<30, 0)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				if n == 0 && (err == unix.EXDEV || err == unix.EINVAL || err == unix.ENOSYS || err == unix.EOPNOTSUPP || err == unix.EPERM) {
					break // fall back to read/write
				}
				return n, err
			}
			if m == 0 {
				return n, nil
			}
			n += int64(m)
		}
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		m, rerr := src.Read(buf)
		for w := 0; w < m; {
			k, err := unix.Write(fd, buf[w:m])
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return n, err
			}
			w += k
			n += int64(k)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

func (co *checkouter) copySymlink(j fileJob, hdr *object.FileHeader, xattrs []object.Xattr) error {
	name := co.abs(j.rel)
	dfd, dname := co.at(j)
	err := unix.Symlinkat(hdr.SymlinkTarget, dfd, dname)
	if err == unix.EEXIST {
		switch co.opts.Mode {
		case OverwriteNone:
			return fmt.Errorf("%w: symlink %s", ErrExists, name)
		case OverwriteUnionAdd:
			return nil
		case OverwriteUnionIdentical:
			if t, err := os.Readlink(name); err == nil && t == hdr.SymlinkTarget {
				return nil
			}
			return fmt.Errorf("%w: %s (want symlink to %s)", ErrNotIdentic, name, hdr.SymlinkTarget)
		case OverwriteUnion:
			if co.opts.Whiteouts {
				err = os.RemoveAll(name)
			} else if err = unix.Unlinkat(dfd, dname, 0); err == unix.ENOENT {
				err = nil
			}
			if err != nil {
				return fmt.Errorf("checkout: replacing %s: %w", name, err)
			}
			if err := unix.Symlinkat(hdr.SymlinkTarget, dfd, dname); err != nil {
				return fmt.Errorf("checkout: symlink %s: %w", name, err)
			}
			// ostree 2022.7 returns here without chown/xattrs for a
			// replaced symlink.
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("checkout: symlink %s: %w", name, err)
	}
	if co.opts.User {
		return nil
	}
	if err := unix.Fchownat(dfd, dname, int(hdr.UID), int(hdr.GID), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("checkout: chown %s: %w", name, err)
	}
	for _, x := range xattrs {
		if err := unix.Lsetxattr(name, x.Name, x.Value, 0); err != nil {
			if errors.Is(err, unix.EPERM) && len(x.Name) > 5 && x.Name[:5] == "user." {
				// user.* xattrs are not allowed on symlinks on Linux.
				continue
			}
			return fmt.Errorf("checkout: setxattr %s %s: %w", name, x.Name, err)
		}
	}
	return nil
}

// removeAll removes rel (and everything below it) if it exists.
func (co *checkouter) removeAll(rel string) error {
	return os.RemoveAll(co.abs(rel))
}
