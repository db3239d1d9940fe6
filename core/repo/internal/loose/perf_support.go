package loose

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"sync"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/klauspost/compress/flate"
	"golang.org/x/sys/unix"
)

// OpenContent opens a content object: its header and a reader for its
// payload, which the caller closes. Archive and bare-user objects are
// opened as raw descriptors (no os.File, so no fcntl and epoll
// registration per object) and archive payloads are inflated by pooled
// readers, returned to the pool on Close. Whenever anything looks unusual
// the call goes the general way, whose errors are the ones returned.
func (s *Store) OpenContent(ctx context.Context, sum oid.Checksum) (*Content, error) {
	var c *Content
	switch s.mode {
	case ModeArchive:
		c = s.openArchiveFast(sum)
	case ModeBareUser:
		c = s.openBareUserFast(sum)
	}
	if c != nil {
		return c, nil
	}
	return s.openContentSlow(ctx, sum)
}

func (s *Store) objectFd(sum oid.Checksum) (int, bool) {
	path := s.ObjectPath(oid.ObjectName{Checksum: sum, Type: oid.File})
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	}
	return fd, err == nil
}

// archiveReader is a pooled .filez payload reader: a large read buffer
// and a reusable inflater (a fresh klauspost reader allocates tens of KiB).
type archiveReader struct {
	fd   int
	br   *bufio.Reader
	zr   io.ReadCloser
	left int64
	// Objects up to inMemoryObject bytes are read whole into buf and
	// inflated from memory: klauspost's inflater is about a fifth faster
	// on a *bytes.Reader than on a bufio.Reader, and the descriptor is
	// closed at once.
	buf []byte
	mem bytes.Reader
}

const inMemoryObject = 1 << 20

var archiveReaders = sync.Pool{New: func() any {
	return &archiveReader{fd: -1, br: bufio.NewReaderSize(nil, 64<<10)}
}}

func (s *Store) openArchiveFast(sum oid.Checksum) *Content {
	fd, ok := s.objectFd(sum)
	if !ok {
		return nil
	}
	z := archiveReaders.Get().(*archiveReader)
	z.fd = fd
	var src io.Reader = z.br
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Size <= inMemoryObject {
		if cap(z.buf) < int(st.Size)+1 {
			z.buf = make([]byte, 0, inMemoryObject+1)
		}
		// One byte more than the size tells a file that grew.
		n, err := io.ReadFull(fsutil.FdReader(fd), z.buf[:st.Size+1])
		if err != io.ErrUnexpectedEOF || int64(n) != st.Size {
			z.Close()
			return nil
		}
		unix.Close(fd)
		z.fd = -2 // nothing to close, but still a reader to pool
		z.mem.Reset(z.buf[:n])
		src = &z.mem
	} else {
		z.br.Reset(fsutil.FdReader(fd))
	}
	hdr, size, err := object.ReadArchiveHeader(src)
	if err != nil {
		z.Close()
		return nil
	}
	c := &Content{Header: hdr, Size: int64(size)}
	if hdr.IsSymlink() {
		z.Close()
		c.Size = 0
		c.ReadCloser = emptyReader{}
		return c
	}
	if z.zr == nil {
		z.zr = flate.NewReader(src.(flate.Reader))
	} else if err := z.zr.(flate.Resetter).Reset(src, nil); err != nil {
		z.Close()
		return nil
	}
	z.left = int64(size)
	c.ReadCloser = &archiveHandle{z: z}
	return c
}

// Read behaves like inflater.Read: exactly the declared size or an error.
func (z *archiveReader) Read(p []byte) (int, error) { return readSized(z.zr, &z.left, p) }

// archiveHandle is what callers hold: closing it twice (a deferred Close
// after an explicit one) must not return the pooled reader twice, or close
// a descriptor that its next user now owns.
type archiveHandle struct{ z *archiveReader }

func (h *archiveHandle) Read(p []byte) (int, error) {
	if h.z == nil {
		return 0, os.ErrClosed
	}
	return h.z.Read(p)
}

func (h *archiveHandle) Close() error {
	if h.z == nil {
		return nil
	}
	z := h.z
	h.z = nil
	return z.Close()
}

func (z *archiveReader) Close() error {
	if z.fd == -1 { // closed already
		return nil
	}
	var err error
	if z.fd >= 0 {
		err = unix.Close(z.fd)
	}
	z.fd = -1
	z.br.Reset(nil)
	z.mem.Reset(nil)
	z.left = 0
	archiveReaders.Put(z)
	return err
}

// FdFile is a raw read-only descriptor with the object's payload. Reads
// end at the size the object had when opened, which saves the read that
// would only return EOF.
type FdFile struct {
	fd   int
	left int64
}

// FD is the descriptor (for copy_file_range); it is valid until Close.
func (f *FdFile) FD() int { return f.fd }

func (f *FdFile) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := fsutil.FdReader(f.fd).Read(p)
	f.left -= int64(n)
	return n, err
}

// ReadAt reads at an offset (pread), for random access to a payload.
func (f *FdFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Pread(f.fd, p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.EOF
		}
		n += m
	}
	return n, nil
}

// Close closes the descriptor once.
func (f *FdFile) Close() error {
	if f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	f.fd = -1
	return err
}

func (s *Store) openBareUserFast(sum oid.Checksum) *Content {
	fd, ok := s.objectFd(sum)
	if !ok {
		return nil
	}
	var buf [512]byte
	n, err := unix.Fgetxattr(fd, MetaXattr, buf[:])
	if err != nil {
		unix.Close(fd)
		return nil
	}
	dm, err := UnmarshalUserMeta(buf[:n])
	if err != nil {
		unix.Close(fd)
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil
	}
	hdr := &object.FileHeader{UID: dm.UID, GID: dm.GID, Mode: dm.Mode, Xattrs: dm.Xattrs}
	if hdr.IsSymlink() {
		unix.Close(fd)
		return nil // rare; the general way reads the target
	}
	return &Content{Header: hdr, Size: st.Size, ReadCloser: &FdFile{fd: fd, left: st.Size}}
}

// readMetaRaw reads a metadata object of this repository through a raw
// descriptor; false when anything is unusual.
func (s *Store) readMetaRaw(name oid.ObjectName) ([]byte, bool) {
	fd, err := unix.Open(s.ObjectPath(name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > 64<<20 {
		return nil, false
	}
	b := make([]byte, st.Size)
	n, err := io.ReadFull(fsutil.FdReader(fd), b)
	if err != nil || n != len(b) {
		return nil, false
	}
	return b, true
}
