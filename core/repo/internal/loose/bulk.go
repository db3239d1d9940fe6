package loose

import (
	"bytes"
	"encoding/binary"
	"hash"
	"io"
	"runtime/debug"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/internal/inflate"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"golang.org/x/sys/unix"
)

// BulkReader reads many objects of one ObjectDir as fast as this machine
// allows, for verifiers that touch every object (fsck): descriptors
// relative to the fan-out directories, buffers reused from object to
// object, archive payloads read whole (or mapped) and inflated by the
// one-shot decoder straight into the caller's hash. Each method either
// succeeds or gives up (false) without an error: a caller then reads the
// object the general way (Repo.ReadMeta, Repo.OpenContent), whose errors
// are the ones to report. One BulkReader per goroutine.
type BulkReader struct {
	d     *ObjectDir
	buf   []byte
	inf   *inflate.Inflater
	rd    bytes.Reader
	xattr [1024]byte
	h     hash.Hash    // the hash HashContent writes to
	emit  func([]byte) // writes to h; made once, not per object
}

const (
	// bulkWholeArchiveMax is the largest .filez read whole and inflated
	// from memory; larger ones go the general (streaming) way.
	bulkWholeArchiveMax = 16 << 20
	// bulkInflateBuf is the inflater's output buffer (plus its window):
	// small, so that its pages stay in cache and few are ever touched.
	bulkInflateBuf = 256 << 10
	bulkReadBuf    = 256 << 10
	// bulkMmapMin: larger .filez are mapped rather than read, which saves
	// the copy and the page faults of growing a buffer to their size
	// (measured a little faster; hashing bare-user files from mappings
	// was measured slower than reading them, so they are read).
	bulkMmapMin = 1 << 20
)

// NewBulkReader returns a reader for this directory's objects.
func (d *ObjectDir) NewBulkReader() *BulkReader {
	b := &BulkReader{d: d, buf: make([]byte, bulkReadBuf)}
	b.emit = func(p []byte) { b.h.Write(p) }
	return b
}

// Size is the size of a content object's file if it is a regular file in
// this directory, else -1.
func (b *BulkReader) Size(name oid.ObjectName) int64 {
	var st unix.Stat_t
	if b.d.Stat(name, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return -1
	}
	return st.Size
}

// ReadMeta reads a metadata object into a new slice. Metadata is small:
// one read that does not fill the buffer is the whole object (anything
// else gives up).
func (b *BulkReader) ReadMeta(name oid.ObjectName) ([]byte, bool) {
	fd, err := b.d.Open(name)
	if err != nil {
		return nil, false
	}
	n, err := fsutil.FdReader(fd).Read(b.buf[:cap(b.buf)])
	unix.Close(fd)
	if err != nil && err != io.EOF || n == cap(b.buf) {
		return nil, false
	}
	return bytes.Clone(b.buf[:n]), true
}

// HashContent writes the canonical stream of content object name (the
// bytes its checksum covers: header, then payload) into h, after
// resetting it. size is the object file's size from Size, or -1. Only
// archive and bare-user objects have a fast path; the rest give up.
func (b *BulkReader) HashContent(name oid.ObjectName, size int64, h hash.Hash) bool {
	switch b.d.mode {
	case ModeArchive:
		return b.hashArchive(name, size, h)
	case ModeBareUser:
		return b.hashBareUser(name, h)
	}
	return false
}

// readAll reads a regular file of up to max bytes whole into b.buf and
// closes fd. size is the file's size if known (else -1: fstat).
func (b *BulkReader) readAll(fd int, size, max int64) ([]byte, bool) {
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
	if int64(cap(b.buf)) < size {
		b.buf = make([]byte, size)
	}
	if _, err := io.ReadFull(fsutil.FdReader(fd), b.buf[:size]); err != nil {
		return nil, false
	}
	return b.buf[:size], true
}

// hashArchive reads a .filez whole: header, then the payload inflated by
// the one-shot decoder straight into the hash.
func (b *BulkReader) hashArchive(name oid.ObjectName, fsize int64, h hash.Hash) (ok bool) {
	if fsize < 0 || fsize > bulkWholeArchiveMax {
		return false
	}
	fd, err := b.d.Open(name)
	if err != nil {
		return false
	}
	var data []byte
	if fsize >= bulkMmapMin {
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
		data = m
	} else if data, ok = b.readAll(fd, fsize, bulkWholeArchiveMax); !ok {
		return false
	}
	if len(data) < 8 {
		return false
	}
	payload := 8 + int(binary.BigEndian.Uint32(data))
	if payload > len(data) {
		return false
	}
	b.rd.Reset(data[:payload])
	hdr, size, err := object.ReadArchiveHeader(&b.rd)
	if err != nil || b.rd.Len() != 0 || hdr.Validate() != nil {
		return false
	}
	h.Reset()
	h.Write(hdr.StreamPrefix())
	if !hdr.IsSymlink() {
		if b.inf == nil {
			b.inf = &inflate.Inflater{}
		}
		if size > 1<<40 {
			return false
		}
		b.h = h
		err := b.inf.Inflate(data[payload:], int64(size), bulkInflateBuf, b.emit)
		b.h = nil
		if err != nil {
			return false
		}
	}
	return true
}

// hashBareUser hashes a bare-user object: the header from
// user.ostreemeta, the payload (or symlink target) from the file.
func (b *BulkReader) hashBareUser(name oid.ObjectName, h hash.Hash) bool {
	fd, err := b.d.Open(name)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	n, err := unix.Fgetxattr(fd, MetaXattr, b.xattr[:])
	if err != nil {
		return false
	}
	dm, ok := object.DecodeDirMetaLayout(b.xattr[:n])
	if !ok {
		return false
	}
	hdr := &object.FileHeader{UID: dm.UID, GID: dm.GID, Mode: dm.Mode, Xattrs: dm.Xattrs}
	if hdr.IsSymlink() {
		n, err := fsutil.FdReader(fd).Read(b.buf[:cap(b.buf)])
		if err != nil && err != io.EOF || n == cap(b.buf) {
			return false
		}
		hdr.SymlinkTarget = string(bytes.TrimSuffix(b.buf[:n], []byte{0}))
		if hdr.Validate() != nil {
			return false
		}
		h.Reset()
		h.Write(hdr.StreamPrefix())
		return true
	}
	if hdr.Validate() != nil {
		return false
	}
	h.Reset()
	h.Write(hdr.StreamPrefix())
	// Read to the end without a stat: a short read of a regular file is
	// its end (were it not, the checksum would differ and the general
	// code would look again).
	p := b.buf[:cap(b.buf)]
	for {
		n, err := fsutil.FdReader(fd).Read(p)
		if err == io.EOF {
			break
		}
		if err != nil {
			return false
		}
		h.Write(p[:n])
		if n < len(p) {
			break
		}
	}
	return true
}
