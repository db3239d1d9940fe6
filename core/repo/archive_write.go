package repo

import (
	"context"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"golang.org/x/sys/unix"
)

// WriteContentVerified stores a content object whose checksum the caller
// computed from an earlier read of the same payload (compose hashes a large
// file first, to skip objects the repository has, then reads it again to
// compress it). The second read is not hashed with SHA-256 again: it only
// goes through check, a fast non-cryptographic hash (hash/maphash with the
// seed the caller used) that the caller computed over the first read too.
// A different result, or a different length, means the payload changed
// between the two reads: that is an *object.CorruptError (its Actual is
// zero, the real checksum being unknown) and nothing is stored. Like
// WriteContentHashed it expects the caller to have asked Has.
func (tx *Txn) WriteContentVerified(ctx context.Context, sum oid.Checksum, hdr *object.FileHeader, payload io.Reader, size int64, check hash.Hash64, want uint64) error {
	if tx.stagedHere(oid.ObjectName{Checksum: sum, Type: oid.File}) {
		return nil
	}
	check.Reset()
	_, err := tx.writeContent(ctx, &sum, hdr, payload, size, &checkedSum{sum: sum, check: check, want: want})
	return err
}

// checkedSum is the hash.Hash writeContent sees for WriteContentVerified:
// it feeds the bytes to the cheap check and reports the known checksum if
// the check matches, a zero one (which nameContent rejects) if not.
type checkedSum struct {
	sum   oid.Checksum
	check hash.Hash64
	want  uint64
}

func (c *checkedSum) Write(p []byte) (int, error) { return c.check.Write(p) }
func (c *checkedSum) Sum(b []byte) []byte {
	if c.check.Sum64() != c.want {
		return append(b, make([]byte, oid.Size)...)
	}
	return append(b, c.sum[:]...)
}
func (c *checkedSum) Reset()         { c.check.Reset() }
func (c *checkedSum) Size() int      { return oid.Size }
func (c *checkedSum) BlockSize() int { return 64 }

// writebackMin is the smallest payload whose compressed object is sent to
// the disk as soon as it is written.
const writebackMin = 256 << 10

// startWriteback asks the kernel to start writing fd's data now, without
// waiting for it: the transaction's final syncfs then finds most of a
// large commit on disk already instead of writing all of it while
// nothing else runs. Durability is unchanged (syncfs still waits for
// everything); failure only means the data goes out later.
func startWriteback(fd int) {
	_ = unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// noEmptyPathLink is set once linkat(AT_EMPTY_PATH) has been refused (it
// needs CAP_DAC_READ_SEARCH before Linux 6.10).
var noEmptyPathLink atomic.Bool

// linkFd gives the O_TMPFILE inode fd the name dst: through the
// descriptor itself where allowed, which spares the kernel a walk through
// /proc for every object, else through /proc/self/fd.
func linkFd(fd int, dst string) error {
	tried := false
	if !noEmptyPathLink.Load() {
		err := unix.Linkat(fd, "", unix.AT_FDCWD, dst, unix.AT_EMPTY_PATH)
		if err != unix.EPERM && err != unix.ENOENT && err != unix.EINVAL {
			return err
		}
		tried = true
	}
	err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, dst, unix.AT_SYMLINK_FOLLOW)
	if err == nil && tried {
		noEmptyPathLink.Store(true) // the refusal was about the flag
	}
	return err
}

// fdWriter writes to a raw descriptor.
type fdWriter int

func (w fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(int(w), p[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "write", Path: "staged object", Err: err}
		}
		if m == 0 {
			return n, io.ErrShortWrite
		}
		n += m
	}
	return n, nil
}

// umaskKeeps0644 reports whether the process umask leaves mode 0644 as it
// is, so that a file created 0644 has that mode exactly. It is read once
// per transaction, from /proc/self/status (umask(2) cannot be read
// without being set).
func (tx *Txn) umaskKeeps0644() bool {
	tx.mu.Lock()
	if tx.keep0644 == nil {
		tx.keep0644 = sync.OnceValue(readUmaskKeeps0644)
	}
	f := tx.keep0644
	tx.mu.Unlock()
	return f()
}

func readUmaskKeeps0644() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return err == nil && m&0o644 == 0
		}
	}
	return false
}
