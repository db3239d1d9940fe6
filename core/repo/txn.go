package repo

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo/internal/loose"
	"github.com/groveos/grove/core/repo/internal/refs"
	"github.com/klauspost/compress/flate"
	"golang.org/x/sys/unix"
)

// Txn stages objects in tmp/staging-*; Commit syncs them once, moves them
// into objects/, and only then writes refs, so that a crash at any moment
// leaves a repository whose refs point at complete commits.
//
// Write methods are safe for concurrent use.
type Txn struct {
	r       *Repo
	dir     string // staging directory
	unlock  func()
	mu      sync.Mutex
	staged  map[oid.ObjectName]bool
	present map[oid.ObjectName]bool // found in the repository already
	objfd   int                     // objects/, or -1
	refs    []refUpdate
	done    bool
	// flushed says Flush moved objects in; flushedNewSubdir that it
	// created a fan-out directory. Commit makes those renames durable.
	flushed, flushedNewSubdir bool
	// Background flushing (see flushEvery): payload staged since the
	// last flush, whether one runs, its first error. flushMu serializes
	// flushes; bg tracks the running one.
	sinceFlush int64
	flushing   bool
	flushErr   error
	flushMu    sync.Mutex
	bg         sync.WaitGroup
	stats      TxnStats
	// keep0644 caches umaskKeeps0644 for the transaction (archive writes).
	keep0644 func() bool
}

// TxnStats counts what a transaction wrote.
type TxnStats struct {
	MetaWritten, ContentWritten int
	ContentBytes                int64 // payload bytes of new content objects
	Flushed                     int   // objects moved in early by Flush
}

type refUpdate struct {
	remote, ref string
	sum         oid.Checksum // zero deletes
}

// Begin starts a transaction, holding the shared repository lock until
// Commit or Abort.
func (r *Repo) Begin(ctx context.Context) (*Txn, error) {
	unlock, err := r.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	r.cleanStaleStaging()
	r.SpreadTmpInodes()
	dir, err := os.MkdirTemp(r.TmpDir(), "staging-grove-")
	if err != nil {
		unlock()
		return nil, fmt.Errorf("repo: begin transaction: %w", err)
	}
	objfd, err := unix.Open(filepath.Join(r.path, "objects"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		objfd = -1 // HasObject reports the problem if it matters
	}
	return &Txn{r: r, dir: dir, unlock: unlock, staged: map[oid.ObjectName]bool{}, objfd: objfd}, nil
}

// Repo is the repository the transaction writes to.
func (tx *Txn) Repo() *Repo { return tx.r }

// Stats reports what has been written so far.
func (tx *Txn) Stats() TxnStats {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.stats
}

// Has reports whether name is already stored or staged.
func (tx *Txn) Has(ctx context.Context, name oid.ObjectName) (bool, error) {
	tx.mu.Lock()
	known := tx.staged[name] || tx.present[name]
	tx.mu.Unlock()
	if known {
		return true, nil
	}
	// Remembered because the same objects are asked about again and
	// again: most directories share a handful of dirmetas.
	ok, err := tx.hasLoose(ctx, name)
	if ok {
		tx.mu.Lock()
		if tx.present == nil {
			tx.present = map[oid.ObjectName]bool{}
		}
		tx.present[name] = true
		tx.mu.Unlock()
	}
	return ok, err
}

// hasLoose is Repo.HasObject relative to the transaction's handle on
// objects/: no walk down the repository path per lookup.
func (tx *Txn) hasLoose(ctx context.Context, name oid.ObjectName) (bool, error) {
	if tx.objfd < 0 {
		return tx.r.HasObject(ctx, name)
	}
	var st unix.Stat_t
	err := unix.Fstatat(tx.objfd, tx.r.ObjectRel(name), &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil {
		return true, nil
	}
	if err != unix.ENOENT && err != unix.ENOTDIR {
		return false, fmt.Errorf("repo: %s: %w", name, err)
	}
	if tx.r.parent != nil {
		return tx.r.parent.HasObject(ctx, name)
	}
	return false, nil
}

// ReadMeta returns a metadata object this transaction staged (readable
// before Commit, e.g. what a static delta wrote for the pull walking it),
// else the repository's.
func (tx *Txn) ReadMeta(ctx context.Context, typ oid.ObjectType, sum oid.Checksum) ([]byte, error) {
	name := oid.ObjectName{Checksum: sum, Type: typ}
	tx.mu.Lock()
	staged := tx.staged[name]
	tx.mu.Unlock()
	if staged {
		// A Flush may move it into objects/ meanwhile: then it is read there.
		if b, err := os.ReadFile(tx.stagePath(name)); err == nil {
			return b, nil
		}
	}
	return tx.r.ReadMeta(ctx, typ, sum)
}

// stagePath returns where name is staged. The staging directory is flat
// (the object's path with the fan-out slash dropped): 256 subdirectories
// would cost a mkdir each while writing and an rmdir each at the end, and
// on a filesystem mounted with discard every rmdir waits for the device.
func (tx *Txn) stagePath(name oid.ObjectName) string {
	return filepath.Join(tx.dir, stagedName(tx.r.ObjectRel(name)))
}

// stagedName is the staging directory's name for the object at rel
// (objects/-relative, "ab/cdef….filez").
func stagedName(rel string) string { return rel[:2] + rel[3:] }

func (tx *Txn) markStaged(name oid.ObjectName, payload int64) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.staged[name] = true
	if name.Type == oid.File {
		tx.stats.ContentWritten++
		tx.stats.ContentBytes += payload
	} else {
		tx.stats.MetaWritten++
	}
	tx.sinceFlush += payload
	if tx.sinceFlush >= flushEvery && !tx.flushing && !tx.done {
		tx.sinceFlush = 0
		tx.flushing = true
		tx.bg.Add(1)
		go tx.backgroundFlush()
	}
}

// flushEvery is the payload staged between two background flushes. A
// transaction that writes much makes it durable and moves it into place
// piecewise while it goes on writing: the device works while the writers
// hash and compress, and Commit is left with the last piece. (Starting
// writeback per file from the writers themselves gained nothing: it
// blocks them whenever the device queue is full.)
const flushEvery = 48 << 20

func (tx *Txn) backgroundFlush() {
	defer tx.bg.Done()
	err := tx.Flush(context.Background())
	tx.mu.Lock()
	tx.flushing = false
	if err != nil && tx.flushErr == nil {
		tx.flushErr = err
	}
	tx.mu.Unlock()
}

// WriteMeta stores a metadata object (dirtree, dirmeta, commit) named by
// the SHA-256 of data, unless it is already present.
func (tx *Txn) WriteMeta(ctx context.Context, typ oid.ObjectType, data []byte) (oid.Checksum, error) {
	sum := oid.Sum(data)
	name := oid.ObjectName{Checksum: sum, Type: typ}
	if ok, err := tx.Has(ctx, name); err != nil || ok {
		return sum, err
	}
	return sum, tx.writeStaged(name, data)
}

// WriteCommitMeta stores (replacing) a commit's detached metadata.
func (tx *Txn) WriteCommitMeta(ctx context.Context, commit oid.Checksum, data []byte) error {
	return tx.writeStaged(oid.ObjectName{Checksum: commit, Type: oid.CommitMeta}, data)
}

func (tx *Txn) writeStaged(name oid.ObjectName, data []byte) error {
	if err := os.WriteFile(tx.stagePath(name), data, 0o644); err != nil {
		return fmt.Errorf("repo: stage %s: %w", name, err)
	}
	tx.markStaged(name, int64(len(data)))
	return nil
}

// WriteContent stores a content object read from payload (size bytes; nil
// for symlinks) and returns its checksum. Nothing is kept if the object
// already exists.
func (tx *Txn) WriteContent(ctx context.Context, hdr *object.FileHeader, payload io.Reader, size int64) (oid.Checksum, error) {
	return tx.writeContent(ctx, nil, hdr, payload, size, nil)
}

// WriteContentAs stores a content object whose checksum the caller knows
// (from a dirtree or another repository); it is skipped if present. The
// stream is re-hashed and a mismatch is an *object.CorruptError.
func (tx *Txn) WriteContentAs(ctx context.Context, sum oid.Checksum, hdr *object.FileHeader, payload io.Reader, size int64) error {
	if ok, err := tx.Has(ctx, oid.ObjectName{Checksum: sum, Type: oid.File}); err != nil || ok {
		return err
	}
	_, err := tx.writeContent(ctx, &sum, hdr, payload, size, nil)
	return err
}

// WriteContentHashed is WriteContentAs for a payload the caller has just
// hashed itself from memory (compose hashes a file before compressing it,
// to skip objects the repository has): the bytes cannot have changed, so
// they are not hashed a second time. sum must be object.ContentChecksum of
// hdr and payload; nothing checks it.
//
// The caller has just asked Has, so only objects this transaction staged
// since are skipped without a second lookup; an object another writer
// stored meanwhile is written again and dropped when it is moved into
// place (the same bytes under the same name).
func (tx *Txn) WriteContentHashed(ctx context.Context, sum oid.Checksum, hdr *object.FileHeader, payload []byte) error {
	if tx.stagedHere(oid.ObjectName{Checksum: sum, Type: oid.File}) {
		return nil
	}
	k := knownSum(sum)
	_, err := tx.writeContent(ctx, &sum, hdr, bytes.NewReader(payload), int64(len(payload)), &k)
	return err
}

// WriteContentTrusted stores a content object under sum without hashing
// it: the caller vouches for the checksum, as ostree's trusted writes do
// (pull-local from a local repository without --untrusted). Like
// WriteContentHashed it expects the caller to have asked Has.
func (tx *Txn) WriteContentTrusted(ctx context.Context, sum oid.Checksum, hdr *object.FileHeader, payload io.Reader, size int64) error {
	if tx.stagedHere(oid.ObjectName{Checksum: sum, Type: oid.File}) {
		return nil
	}
	k := knownSum(sum)
	_, err := tx.writeContent(ctx, &sum, hdr, payload, size, &k)
	return err
}

// stagedHere reports whether this transaction has staged name or found it
// present, without asking the filesystem.
func (tx *Txn) stagedHere(name oid.ObjectName) bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.staged[name] || tx.present[name]
}

// knownSum is a hash.Hash that does no work: it stands for a checksum the
// caller already computed over the same bytes.
type knownSum oid.Checksum

func (k *knownSum) Write(p []byte) (int, error) { return len(p), nil }
func (k *knownSum) Sum(b []byte) []byte         { return append(b, k[:]...) }
func (k *knownSum) Reset()                      {}
func (k *knownSum) Size() int                   { return oid.Size }
func (k *knownSum) BlockSize() int              { return 64 }

// writeContent streams the object into a staging temp file while hashing
// it, then names it; want, if not nil, is the checksum it must have. h, if
// not nil, stands in for SHA-256 of the stream (header included), for a
// caller who knows the checksum already.
func (tx *Txn) writeContent(ctx context.Context, want *oid.Checksum, hdr *object.FileHeader, payload io.Reader, size int64, h hash.Hash) (oid.Checksum, error) {
	if err := hdr.Validate(); err != nil {
		return oid.Checksum{}, err
	}
	if err := ctx.Err(); err != nil {
		return oid.Checksum{}, err
	}
	r := tx.r
	if r.Mode() == ModeBareUserOnly && (hdr.UID != 0 || hdr.GID != 0 || len(hdr.Xattrs) > 0) {
		// The object could not be read back as it was hashed.
		return oid.Checksum{}, fmt.Errorf("%w: bare-user-only cannot store uid %d, gid %d or %d xattrs (commit with --canonical-permissions)",
			ErrReadOnly, hdr.UID, hdr.GID, len(hdr.Xattrs))
	}
	if h == nil || want == nil {
		h = sha256.New()
		h.Write(hdr.StreamPrefix())
	}
	if hdr.IsSymlink() {
		payload, size = nil, 0
		if r.Mode() != ModeArchive && r.Mode() != ModeBareUser {
			return tx.writeSymlink(ctx, want, h, hdr)
		}
		// The header is the whole object: name it before creating a file.
		if want == nil {
			if sum, _, done, err := tx.nameContent(ctx, nil, h); done || err != nil {
				return sum, err
			}
		}
	}

	tmp, err := tx.createTmp()
	if err != nil {
		return oid.Checksum{}, fmt.Errorf("repo: write content: %w", err)
	}
	defer tmp.discard()
	f := fdWriter(tmp.fd)

	switch {
	case r.Mode() == ModeArchive:
		// The deflater flushes every few hundred bytes; batch its writes.
		bw := bufWriters.Get().(*bufio.Writer)
		bw.Reset(f)
		defer bufWriters.Put(bw)
		if _, err := bw.Write(hdr.ArchiveHeader(uint64(size))); err != nil {
			return oid.Checksum{}, err
		}
		if !hdr.IsSymlink() {
			zw, err := r.getDeflater(bw)
			if err != nil {
				return oid.Checksum{}, err
			}
			err = copyExact(zw, h, payload, size)
			if err == nil {
				err = zw.Close()
			}
			r.putDeflater(zw)
			if err != nil {
				return oid.Checksum{}, err
			}
		}
		if err := bw.Flush(); err != nil {
			return oid.Checksum{}, err
		}
		if r.Fsync() && size >= writebackMin {
			startWriteback(tmp.fd)
		}
	case hdr.IsSymlink(): // bare-user: a regular file holding the target
		if _, err := f.Write([]byte(hdr.SymlinkTarget + "\x00")); err != nil {
			return oid.Checksum{}, err
		}
	default:
		if err := copyExact(f, h, payload, size); err != nil {
			return oid.Checksum{}, err
		}
	}

	sum, name, done, err := tx.nameContent(ctx, want, h)
	if done || err != nil {
		return sum, err
	}
	if r.Mode() == ModeArchive && tmp.mode644 {
		// Created with the mode an archive object has: nothing to finish.
	} else if err := tx.finishContent(tmp.fd, hdr); err != nil {
		return sum, fmt.Errorf("repo: write %s: %w", name, err)
	}
	if err := tmp.linkTo(tx.stagePath(name)); err != nil {
		return sum, fmt.Errorf("repo: write %s: %w", name, err)
	}
	tx.markStaged(name, size)
	return sum, nil
}

// nameContent finishes the checksum and decides whether the object still
// has to be stored: done is true when it already exists.
func (tx *Txn) nameContent(ctx context.Context, want *oid.Checksum, h hash.Hash) (sum oid.Checksum, name oid.ObjectName, done bool, err error) {
	h.Sum(sum[:0])
	name = oid.ObjectName{Checksum: sum, Type: oid.File}
	if want != nil {
		if *want != sum {
			return sum, name, true, &object.CorruptError{Name: oid.ObjectName{Checksum: *want, Type: oid.File}, Actual: sum}
		}
		return sum, name, false, nil
	}
	ok, err := tx.Has(ctx, name)
	return sum, name, ok, err
}

// writeSymlink stores a symlink as a real symlink (bare, bare-user-only).
func (tx *Txn) writeSymlink(ctx context.Context, want *oid.Checksum, h hash.Hash, hdr *object.FileHeader) (oid.Checksum, error) {
	sum, name, done, err := tx.nameContent(ctx, want, h)
	if done || err != nil {
		return sum, err
	}
	dst := tx.stagePath(name)
	if err := os.Symlink(hdr.SymlinkTarget, dst); err != nil && !os.IsExist(err) {
		return sum, fmt.Errorf("repo: write %s: %w", name, err)
	}
	if tx.r.Mode() == ModeBare {
		if err := os.Lchown(dst, int(hdr.UID), int(hdr.GID)); err != nil {
			return sum, fmt.Errorf("repo: write %s: %w", name, err)
		}
		if err := fsutil.SetXattrs(dst, toFsXattrs(hdr.Xattrs)); err != nil {
			return sum, fmt.Errorf("repo: write %s: %w", name, err)
		}
	}
	tx.markStaged(name, 0)
	return sum, nil
}

// tmpFile is an object being written: an anonymous O_TMPFILE inode where
// the filesystem supports it (no directory entry until it is linked under
// its final name: one directory operation per object, and none of the
// contention of thousands of creates in one directory), else a named
// temporary file.
//
// The descriptor stays raw (no os.File: that costs an fcntl and a
// finalizer per object).
type tmpFile struct {
	fd      int
	f       *os.File // owns fd for a named temporary file, else nil
	path    string   // "" for O_TMPFILE
	mode644 bool     // created with mode 0644 exactly
}

func (tx *Txn) createTmp() (*tmpFile, error) {
	perm := uint32(0o600)
	if tx.r.Mode() == ModeArchive && tx.umaskKeeps0644() {
		perm = 0o644 // an archive object's mode, without an fchmod
	}
	fd, err := unix.Open(tx.dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, perm)
	if err == nil {
		return &tmpFile{fd: fd, mode644: perm == 0o644}, nil
	}
	f, err := os.CreateTemp(tx.dir, "obj-")
	if err != nil {
		return nil, err
	}
	return &tmpFile{fd: int(f.Fd()), f: f, path: f.Name()}, nil
}

// linkTo gives the file its name. An existing name means a concurrent
// writer stored the same object, which is as good.
func (t *tmpFile) linkTo(dst string) error {
	var err error
	if t.path == "" {
		err = linkFd(t.fd, dst)
		if errors.Is(err, unix.EEXIST) {
			err = nil
		}
	} else {
		err = os.Rename(t.path, dst)
		if err == nil {
			t.path = ""
		}
	}
	return err
}

func (t *tmpFile) discard() {
	if t.f != nil {
		t.f.Close()
	} else {
		unix.Close(t.fd)
	}
	if t.path != "" {
		os.Remove(t.path)
	}
}

// copyExact copies exactly size bytes from src into dst and h.
func copyExact(dst io.Writer, h hash.Hash, src io.Reader, size int64) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	n, err := io.CopyBuffer(io.MultiWriter(dst, h), io.LimitReader(src, size+1), *bp)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("repo: content size changed while reading: got %d bytes, want %d", n, size)
	}
	return nil
}

// finishContent applies per-mode ownership, mode and xattrs to a staged
// regular file.
func (tx *Txn) finishContent(fd int, hdr *object.FileHeader) error {
	r := tx.r
	switch r.Mode() {
	case ModeArchive:
		return unix.Fchmod(fd, 0o644)
	case ModeBareUser:
		if err := fsutil.FSetXattr(fd, loose.MetaXattr, loose.MarshalUserMeta(hdr)); err != nil {
			return err
		}
		mode := uint32(0o644)
		if !hdr.IsSymlink() {
			mode = hdr.Mode&0o775 | 0o400
		}
		if err := unix.Fchmod(fd, mode); err != nil {
			return err
		}
	case ModeBare:
		if err := unix.Fchown(fd, int(hdr.UID), int(hdr.GID)); err != nil {
			return err
		}
		if err := unix.Fchmod(fd, hdr.Mode&object.ModePerms); err != nil {
			return err
		}
		for _, x := range hdr.Xattrs {
			if err := fsutil.FSetXattr(fd, x.Name, x.Value); err != nil {
				return err
			}
		}
	default: // bare-user-only, bare-split-xattrs
		if err := unix.Fchmod(fd, hdr.Mode&object.ModePerms); err != nil {
			return err
		}
	}
	if hdr.IsSymlink() {
		return nil
	}
	// Hardlinked checkouts show the object's mtime; ostree sets it to 0.
	return unix.Futimes(fd, []unix.Timeval{{}, {}})
}

func toFsXattrs(xs []object.Xattr) []fsutil.Xattr {
	out := make([]fsutil.Xattr, len(xs))
	for i, x := range xs {
		out[i] = fsutil.Xattr{Name: x.Name, Value: x.Value}
	}
	return out
}

// SetRef records a ref update to apply after the objects are in place.
// An empty remote means refs/heads. A zero checksum deletes the ref.
func (tx *Txn) SetRef(remote, ref string, sum oid.Checksum) error {
	if err := refs.ValidateRefspec(remote, ref); err != nil {
		return err
	}
	tx.mu.Lock()
	tx.refs = append(tx.refs, refUpdate{remote, ref, sum})
	tx.mu.Unlock()
	return nil
}

// Flush makes the objects staged so far durable and moves them into the
// repository ahead of Commit, so that a large transaction's sync and
// renames overlap work still under way (compose flushes while its last
// files are compressed). Commit objects stay staged: one becomes visible
// only in Commit, after everything it names. Objects flushed by a
// transaction that is then aborted stay in the repository, complete and
// unreferenced, for prune to find. Writes may continue during Flush;
// Commit and Abort may not.
func (tx *Txn) Flush(ctx context.Context) error {
	tx.flushMu.Lock()
	defer tx.flushMu.Unlock()
	tx.mu.Lock()
	if tx.done {
		tx.mu.Unlock()
		return errors.New("repo: transaction already finished")
	}
	var names []oid.ObjectName
	for name := range tx.staged {
		if name.Type != oid.Commit {
			names = append(names, name)
		}
	}
	tx.mu.Unlock()
	if len(names) <= smallTxnObjects {
		return nil // Commit's per-object fsyncs beat a filesystem sync
	}
	rels := make([]string, len(names))
	for i, name := range names {
		rels[i] = tx.r.ObjectRel(name)
	}
	slices.Sort(rels)
	objects := filepath.Join(tx.r.path, "objects")
	if tx.r.Fsync() {
		if err := syncfs(objects); err != nil {
			return fmt.Errorf("repo: sync staged objects: %w", err)
		}
	}
	newSubdir, err := makeFanouts(objects, rels)
	if err != nil {
		return err
	}
	err = tx.moveIntoPlace(ctx, rels)
	tx.mu.Lock()
	defer tx.mu.Unlock()
	// Commit has to make these renames durable too, whatever happened.
	tx.flushed = true
	tx.flushedNewSubdir = tx.flushedNewSubdir || newSubdir
	if err != nil {
		return err
	}
	if tx.present == nil {
		tx.present = map[oid.ObjectName]bool{}
	}
	for _, name := range names {
		delete(tx.staged, name)
		tx.present[name] = true
	}
	tx.stats.Flushed += len(names)
	return nil
}

// FlushIfBusy is Flush for writers whose queue has run dry while others
// still write inFlight payload bytes: it flushes only when that work
// lasts long enough to hide the sync and renames (about 40 ms: deflate
// at level 6 runs near 100 MB/s a core, hashing and copying more than
// ten times faster). With less in flight, a flush only delays Commit:
// flushing with a few KiB in flight made a bare-user commit 5% slower.
func (tx *Txn) FlushIfBusy(ctx context.Context, inFlight int64) error {
	worth := int64(64 << 20)
	if tx.r.Mode() == ModeArchive {
		worth = 4 << 20
	}
	if inFlight < worth {
		return nil
	}
	return tx.Flush(ctx)
}

// Commit makes the staged objects part of the repository, then updates
// refs. The transaction is finished whether or not it succeeds.
func (tx *Txn) Commit(ctx context.Context) error {
	if tx.done {
		return errors.New("repo: transaction already finished")
	}
	defer tx.finish()
	tx.bg.Wait()
	if tx.flushErr != nil {
		return tx.flushErr
	}
	r := tx.r
	objects := filepath.Join(r.path, "objects")
	// Commit objects go last: fsck examines every commit object, so one
	// must never be visible before the trees it names, even if we are
	// killed halfway through.
	var staged, commits []string // paths relative to objects/
	for name := range tx.staged {
		rel := r.ObjectRel(name)
		if name.Type == oid.Commit {
			commits = append(commits, rel)
		} else {
			staged = append(staged, rel)
		}
	}
	// Grouped by fan-out directory, so that consecutive renames touch the
	// same directory.
	slices.Sort(staged)
	slices.Sort(commits)
	newSubdir, err := makeFanouts(objects, append(staged[:len(staged):len(staged)], commits...))
	if err != nil {
		return err
	}
	newSubdir = newSubdir || tx.flushedNewSubdir
	// A large transaction makes its objects durable with one filesystem
	// sync. A small one (a re-commit that found nearly everything
	// present) fsyncs its own few files and directories instead: syncfs
	// would also flush everything else dirty on the filesystem, after a
	// fresh checkout thousands of inodes unrelated to this commit. After
	// a Flush the renames it made are not durable yet: the filesystem
	// sync covers them.
	few := len(staged)+len(commits) <= smallTxnObjects && !tx.flushed
	durable := func(rels []string, dirs bool) error {
		if !r.Fsync() || len(rels) == 0 && !(dirs && tx.flushed) {
			return nil
		}
		if !few {
			return syncfs(objects)
		}
		if !dirs {
			err := fsyncEach(tx.dir, rels)
			if errors.Is(err, errSymlinkObject) {
				few = false // a symlink's inode has no fsync of its own
				return syncfs(objects)
			}
			return err
		}
		if err := fsyncParents(objects, rels); err != nil {
			return err
		}
		if newSubdir {
			return fsutil.SyncDir(objects)
		}
		return nil
	}
	if err := durable(append(staged[:len(staged):len(staged)], commits...), false); err != nil {
		return fmt.Errorf("repo: sync staged objects: %w", err)
	}
	if err := tx.moveIntoPlace(ctx, staged); err != nil {
		return err
	}
	if len(commits) > 0 {
		if err := durable(staged, true); err != nil {
			return fmt.Errorf("repo: commit: %w", err)
		}
		staged = nil
	}
	if err := tx.moveIntoPlace(ctx, commits); err != nil {
		return err
	}
	// Every rename is durable before any ref moves.
	if err := durable(append(staged, commits...), true); err != nil {
		return fmt.Errorf("repo: commit: %w", err)
	}
	for _, u := range tx.refs {
		if err := r.WriteRef(u.remote, u.ref, u.sum); err != nil {
			return err
		}
	}
	return nil
}

// makeFanouts creates the objects/XX directories that rels (sorted) need
// and reports whether any was new.
func makeFanouts(objects string, rels []string) (bool, error) {
	created := false
	for i, rel := range rels {
		if i > 0 && rels[i-1][:2] == rel[:2] {
			continue
		}
		if err := os.Mkdir(filepath.Join(objects, rel[:2]), 0o755); err == nil {
			created = true
		} else if !os.IsExist(err) {
			return false, fmt.Errorf("repo: commit: %w", err)
		}
	}
	return created, nil
}

// Abort discards everything staged.
func (tx *Txn) Abort() error {
	if tx.done {
		return nil
	}
	tx.finish()
	return nil
}

func (tx *Txn) finish() {
	tx.bg.Wait() // a background flush renames out of the staging directory
	tx.mu.Lock()
	tx.done = true
	tx.mu.Unlock()
	if tx.objfd >= 0 {
		unix.Close(tx.objfd)
		tx.objfd = -1
	}
	os.RemoveAll(tx.dir)
	tx.unlock()
}

// smallTxnObjects is the most objects a transaction fsyncs one by one
// rather than syncing the filesystem.
const smallTxnObjects = 64

var errSymlinkObject = errors.New("repo: symlink object")

// fsyncEach fsyncs the staged files of the objects at rels.
func fsyncEach(dir string, rels []string) error {
	for _, rel := range rels {
		f, err := os.OpenFile(filepath.Join(dir, stagedName(rel)), os.O_RDONLY|unix.O_NOFOLLOW, 0)
		if errors.Is(err, unix.ELOOP) {
			return errSymlinkObject
		}
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// fsyncParents fsyncs each directory under root that holds one of rels.
func fsyncParents(root string, rels []string) error {
	done := map[string]bool{}
	for _, rel := range rels {
		d := filepath.Dir(rel)
		if done[d] {
			continue
		}
		done[d] = true
		if err := fsutil.SyncDir(filepath.Join(root, d)); err != nil {
			return err
		}
	}
	return nil
}

func syncfs(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Syncfs(fd)
}

// cleanStaleStaging removes staging directories that crashed writers left
// behind, once they are older than core.tmp-expiry-secs (a live
// transaction's directory is never that old).
func (r *Repo) cleanStaleStaging() {
	secs, err := r.config.Int("core", "tmp-expiry-secs", 86400)
	if err != nil {
		return
	}
	ents, err := os.ReadDir(r.TmpDir())
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-time.Duration(secs) * time.Second)
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "staging-grove-") {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.RemoveAll(filepath.Join(r.TmpDir(), e.Name()))
		}
	}
}

// copyBufs recycles copy buffers: a commit copies every file once.
var bufWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 128<<10); return &b }}

// Deflate writers hold about a megabyte of tables; making one per object
// made allocation and zeroing the top of a commit profile. Pools are per
// level, since a repository's level is fixed.
var deflaters [10]sync.Pool

func (r *Repo) getDeflater(w io.Writer) (*flate.Writer, error) {
	if zw, ok := deflaters[r.zlibLevel].Get().(*flate.Writer); ok {
		zw.Reset(w)
		return zw, nil
	}
	return flate.NewWriter(w, r.zlibLevel)
}

func (r *Repo) putDeflater(zw *flate.Writer) {
	zw.Reset(io.Discard)
	deflaters[r.zlibLevel].Put(zw)
}

// moveIntoPlace renames staged objects into objects/, never replacing an
// existing object (another writer stored the same bytes) except detached
// metadata, which may legitimately change.
func (tx *Txn) moveIntoPlace(ctx context.Context, rels []string) error {
	if len(rels) == 0 {
		return nil
	}
	// Relative to handles on both directories: one path component to
	// resolve on each side instead of the whole repository path.
	from, err := unix.Open(tx.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("repo: commit: %w", err)
	}
	defer unix.Close(from)
	to, err := unix.Open(filepath.Join(tx.r.path, "objects"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("repo: commit: %w", err)
	}
	defer unix.Close(to)
	for _, rel := range rels {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		if strings.HasSuffix(rel, ".commitmeta") {
			err = unix.Renameat(from, stagedName(rel), to, rel)
		} else {
			err = unix.Renameat2(from, stagedName(rel), to, rel, unix.RENAME_NOREPLACE)
			if errors.Is(err, unix.EEXIST) {
				err = nil
			}
		}
		if err != nil {
			return fmt.Errorf("repo: commit %s: %w", rel, err)
		}
	}
	return nil
}
