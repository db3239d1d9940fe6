package fsck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io"
	"path/filepath"
	"runtime/debug"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"golang.org/x/sys/unix"
)

// Fast paths for the objects of a sound repository. Each one either
// proves the object good or gives up, and then the object is checked
// again by the general code (Object), whose verdict and error text are
// the ones reported: the fast paths never produce an error themselves.

const (
	// wholeArchiveMax is the largest .filez read whole and inflated from
	// memory; larger ones stream through repo.OpenFileFast.
	wholeArchiveMax = 16 << 20
	// inflateBuf is the output buffer of the inflater (plus its window):
	// small, so that its pages stay in cache and few are ever touched.
	inflateBuf = 256 << 10
	readBuf    = 256 << 10
	// mmapMin: larger .filez are mapped rather than read, which saves
	// the copy and the page faults of growing a buffer to their size
	// (measured a little faster; hashing bare-user files from mappings
	// was measured slower than reading them, so they are read).
	mmapMin = 1 << 20
)

// fastStore opens objects relative to a handle on objects/.
type fastStore struct {
	r     *repo.Repo
	mode  repo.Mode
	dirfd int // -1: fast paths off
	// dirs holds a handle on each objects/XX (or -1): objects are then
	// opened by their last path component only.
	dirs [256]int
	// sizes: stat content objects when found, to start the largest
	// first. Worth its system call per object only in archive
	// repositories, where one large file inflates for a tenth of a
	// second; hashing a bare-user one is fast enough.
	sizes bool
}

func newFastStore(r *repo.Repo, fast bool) *fastStore {
	fd, err := unix.Open(filepath.Join(r.Path(), "objects"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil || !fast {
		if err == nil {
			unix.Close(fd)
		}
		fd = -1
	}
	fs := &fastStore{r: r, mode: r.Mode(), dirfd: fd, sizes: fd >= 0 && r.Mode() == repo.ModeArchive}
	for i := range fs.dirs {
		fs.dirs[i] = -1
		if fd >= 0 {
			dir := string([]byte{hexDigits[i>>4], hexDigits[i&15]})
			if d, err := unix.Openat(fd, dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
				fs.dirs[i] = d
			}
		}
	}
	return fs
}

func (fs *fastStore) close() {
	for _, d := range fs.dirs {
		if d >= 0 {
			unix.Close(d)
		}
	}
	if fs.dirfd >= 0 {
		unix.Close(fs.dirfd)
	}
}

// at is the directory handle and relative path of an object file.
func (fs *fastStore) at(sum oid.Checksum, ext string) (int, string) {
	hex := sum.String()
	if d := fs.dirs[sum[0]]; d >= 0 {
		return d, hex[2:] + "." + ext
	}
	return fs.dirfd, hex[:2] + "/" + hex[2:] + "." + ext
}

// checker is one worker's reusable state.
type checker struct {
	fs    *fastStore
	h     hash.Hash
	write func([]byte)
	buf   []byte
	inf   *inflater
	rd    bytes.Reader
	xattr [1024]byte
}

func (fs *fastStore) newWorker() *checker {
	c := &checker{fs: fs, h: sha256.New(), buf: make([]byte, readBuf)}
	c.write = func(p []byte) { c.h.Write(p) }
	return c
}

// check verifies one object like Object does; for a dirtree that decodes
// it also returns the tree, so that the walk expands it (even when its
// checksum is wrong, like ostree's traversal does).
//
// size is the object file's size from c.size (-1 when unknown).
func (c *checker) check(ctx context.Context, name oid.ObjectName, size int64) (*object.DirTree, error) {
	r := c.fs.r
	switch name.Type {
	case oid.File:
		if c.fastContent(name, size) {
			return nil, nil
		}
		return nil, checkContent(ctx, r, name)
	case oid.DirTree, oid.DirMeta:
		if b, ok := c.readMeta(name); ok && oid.Checksum(sha256.Sum256(b)) == name.Checksum {
			if name.Type == oid.DirMeta {
				if _, err := object.UnmarshalDirMeta(b); err == nil {
					return nil, nil
				}
			} else if t, err := object.UnmarshalDirTree(b); err == nil {
				return t, nil
			}
		}
		err := Object(ctx, r, name)
		if name.Type == oid.DirTree {
			if t, lerr := r.LoadDirTree(ctx, name.Checksum); lerr == nil {
				return t, err
			}
		}
		return nil, err
	}
	return nil, Object(ctx, r, name)
}

// contentExt is the extension of content objects in this repository.
func (fs *fastStore) contentExt() string {
	if fs.mode == repo.ModeArchive {
		return "filez"
	}
	return "file"
}

// size is the size of a content object's file if it is a regular file of
// this repository (not a parent's), else -1.
func (c *checker) size(name oid.ObjectName) int64 {
	if c.fs.dirfd < 0 {
		return -1
	}
	var st unix.Stat_t
	dir, rel := c.fs.at(name.Checksum, c.fs.contentExt())
	for {
		err := unix.Fstatat(dir, rel, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.EINTR {
			continue
		}
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			return -1
		}
		return st.Size
	}
}

// open opens an object of this repository (not a parent's) read-only.
func (c *checker) open(name oid.ObjectName, ext string) (int, bool) {
	if c.fs.dirfd < 0 {
		return -1, false
	}
	dir, rel := c.fs.at(name.Checksum, ext)
	for {
		fd, err := unix.Openat(dir, rel, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err == unix.EINTR {
			continue
		}
		return fd, err == nil
	}
}

// readAll reads a regular file of up to max bytes whole into c.buf and
// closes fd. size is the file's size if known (else -1: fstat).
func (c *checker) readAll(fd int, size, max int64) ([]byte, bool) {
	defer unix.Close(fd)
	if size < 0 {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			return nil, false
		}
		size = st.Size
	}
	if size > max {
		return nil, false
	}
	if int64(cap(c.buf)) < size {
		c.buf = make([]byte, size)
	}
	if _, err := io.ReadFull(fsutil.FdReader(fd), c.buf[:size]); err != nil {
		return nil, false
	}
	return c.buf[:size], true
}

// readMeta reads a metadata object into a new slice.
func (c *checker) readMeta(name oid.ObjectName) ([]byte, bool) {
	fd, ok := c.open(name, name.Type.String())
	if !ok {
		return nil, false
	}
	// Metadata is small: one read that does not fill the buffer is the
	// whole object (anything else goes the general way).
	n, err := fsutil.FdReader(fd).Read(c.buf[:cap(c.buf)])
	unix.Close(fd)
	if err != nil && err != io.EOF || n == cap(c.buf) {
		return nil, false
	}
	return bytes.Clone(c.buf[:n]), true
}

func (c *checker) fastContent(name oid.ObjectName, size int64) bool {
	switch c.fs.mode {
	case repo.ModeArchive:
		return c.archive(name, size)
	case repo.ModeBareUser:
		return c.bareUser(name)
	}
	return false
}

func (c *checker) sumIs(want oid.Checksum) bool {
	var sum oid.Checksum
	c.h.Sum(sum[:0])
	return sum == want
}

// archive checks a .filez read whole: header, then the payload inflated
// by the one-shot decoder straight into the hash.
func (c *checker) archive(name oid.ObjectName, fsize int64) (ok bool) {
	if fsize < 0 || fsize > wholeArchiveMax {
		return false
	}
	fd, ok := c.open(name, "filez")
	if !ok {
		return false
	}
	var b []byte
	if fsize >= mmapMin {
		m, err := unix.Mmap(fd, 0, int(fsize), unix.PROT_READ, unix.MAP_SHARED)
		unix.Close(fd)
		if err != nil {
			return false
		}
		defer unix.Munmap(m)
		// A file cut short under the mapping faults: give up then.
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if recover() != nil {
				ok = false
			}
		}()
		b = m
	} else if b, ok = c.readAll(fd, fsize, wholeArchiveMax); !ok {
		return false
	}
	if len(b) < 8 {
		return false
	}
	payload := 8 + int(binary.BigEndian.Uint32(b))
	if payload > len(b) {
		return false
	}
	c.rd.Reset(b[:payload])
	hdr, size, err := object.ReadArchiveHeader(&c.rd)
	if err != nil || c.rd.Len() != 0 || hdr.Validate() != nil {
		return false
	}
	c.h.Reset()
	c.h.Write(hdr.StreamPrefix())
	if !hdr.IsSymlink() {
		if c.inf == nil {
			c.inf = &inflater{}
		}
		if size > 1<<40 || c.inf.inflate(b[payload:], int64(size), inflateBuf, c.write) != nil {
			return false
		}
	}
	return c.sumIs(name.Checksum)
}

// bareUser checks a bare-user object: the header from user.ostreemeta,
// the payload (or symlink target) from the file.
func (c *checker) bareUser(name oid.ObjectName) bool {
	fd, ok := c.open(name, "file")
	if !ok {
		return false
	}
	n, err := unix.Fgetxattr(fd, "user.ostreemeta", c.xattr[:])
	if err != nil {
		unix.Close(fd)
		return false
	}
	dm, ok := object.DecodeDirMetaLayout(c.xattr[:n])
	if !ok {
		unix.Close(fd)
		return false
	}
	hdr := &object.FileHeader{UID: dm.UID, GID: dm.GID, Mode: dm.Mode, Xattrs: dm.Xattrs}
	if hdr.IsSymlink() {
		defer unix.Close(fd)
		n, err := fsutil.FdReader(fd).Read(c.buf[:cap(c.buf)])
		if err != nil && err != io.EOF || n == cap(c.buf) {
			return false
		}
		b := c.buf[:n]
		hdr.SymlinkTarget = string(bytes.TrimSuffix(b, []byte{0}))
		if hdr.Validate() != nil {
			return false
		}
		c.h.Reset()
		c.h.Write(hdr.StreamPrefix())
		return c.sumIs(name.Checksum)
	}
	defer unix.Close(fd)
	if hdr.Validate() != nil {
		return false
	}
	c.h.Reset()
	c.h.Write(hdr.StreamPrefix())
	// Read to the end without a stat: a short read of a regular file is
	// its end (were it not, the checksum would differ and the general
	// code would look again).
	p := c.buf[:cap(c.buf)]
	for {
		n, err := fsutil.FdReader(fd).Read(p)
		if err == io.EOF {
			break
		}
		if err != nil {
			return false
		}
		c.h.Write(p[:n])
		if n < len(p) {
			break
		}
	}
	return c.sumIs(name.Checksum)
}
