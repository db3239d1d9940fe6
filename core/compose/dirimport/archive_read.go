package dirimport

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/maphash"
	"io"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"golang.org/x/sys/unix"
)

// Reading helpers for archive commits (regular in dir.go): raw
// descriptors, since os.File costs an fcntl and a finalizer per file and a
// commit opens thousands.

// errChanged reports a file whose size or contents changed while it was
// being committed.
var errChanged = errors.New("changed while being committed")

// openRaw opens path for reading.
func openRaw(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &fsError{op: "open", path: path, err: err}
		}
		return fd, nil
	}
}

type fsError struct {
	op, path string
	err      error
}

func (e *fsError) Error() string { return fmt.Sprintf("%s %s: %v", e.op, e.path, e.err) }
func (e *fsError) Unwrap() error { return e.err }

// readSmall reads a file expected to hold len(buf)-1 bytes into buf and
// returns how many bytes it read: len(buf) if the file grew. A read of a
// regular file comes up short only at its end, so a first read that
// returns exactly the expected size needs no second one to find EOF.
func readSmall(fd int, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := unix.Pread(fd, buf[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
		if n == len(buf)-1 {
			break
		}
	}
	return n, nil
}

// checkSeed seeds the cheap hash that verifies a large file's second read
// against its first; one per process, so nobody can aim for a collision.
var checkSeed = maphash.MakeSeed()

// hashLarge reads a file of size bytes through buf, once, computing its
// content checksum and its cheap check (see repo.Txn.WriteContentVerified).
func hashLarge(fd int, hdr *object.FileHeader, size int64, buf []byte) (oid.Checksum, uint64, error) {
	h := sha256.New()
	h.Write(hdr.StreamPrefix())
	var check maphash.Hash
	check.SetSeed(checkSeed)
	var off int64
	for {
		m, err := unix.Pread(fd, buf, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return oid.Checksum{}, 0, err
		}
		if m == 0 {
			break
		}
		h.Write(buf[:m])
		check.Write(buf[:m])
		off += int64(m)
		if off > size {
			break
		}
	}
	if off != size {
		return oid.Checksum{}, 0, errChanged
	}
	var sum oid.Checksum
	h.Sum(sum[:0])
	return sum, check.Sum64(), nil
}

// fdReader reads a descriptor from offset off on, with pread so that
// nothing depends on the file position.
type fdReader struct {
	fd  int
	off int64
}

func (r *fdReader) Read(p []byte) (int, error) {
	for {
		n, err := unix.Pread(r.fd, p, r.off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		r.off += int64(n)
		return n, nil
	}
}

// newCheck returns the cheap hash hashLarge computes, for the second read.
func newCheck() *maphash.Hash {
	var h maphash.Hash
	h.SetSeed(checkSeed)
	return &h
}
