package dirimport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/internal/workq"
	"github.com/groveos/grove/core/mtree"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"golang.org/x/sys/unix"
)

type importer struct {
	ctx  context.Context
	tx   *repo.Txn
	r    *repo.Repo
	mod  *mtree.Modifier
	opts *mtree.ImportOptions
	prog mtree.Counters

	jobs *workq.Queue[fileJob]
	wg   sync.WaitGroup
	// inFlight is the bytes of the files being written; flushOnce lets
	// the first worker without work flush the transaction if much is.
	inFlight  atomic.Int64
	flushOnce sync.Once
	errOnce   sync.Once
	err       error
	cancel    context.CancelFunc
	treeMu    sync.Mutex

	walkSlots chan struct{} // one token per extra directory walker
	walking   sync.WaitGroup

	identity    bool // the modifier changes no file's metadata (paths aside)
	inoMu       sync.Mutex
	inoReliable map[uint64]bool // per device: getdents' d_ino is st_ino
}

type fileJob struct {
	path, rel string
	st        unix.Stat_t
	tree      *mtree.Tree
	name      string
	dirfd     int // the open parent directory, for symlinks named in the walker; else 0
}

// Import reads the directory dir into a new Tree, writing content and
// dirmeta objects into tx. Files are hashed (and compressed) on every core.
func Import(ctx context.Context, tx *repo.Txn, dir string, opts mtree.ImportOptions) (*mtree.Tree, error) {
	mod := opts.Modifier
	if mod == nil {
		mod = mtree.NoModifier()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	im := &importer{ctx: ctx, tx: tx, r: tx.Repo(), mod: mod, opts: &opts, cancel: cancel,
		inoReliable: map[uint64]bool{}, walkSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
	im.identity = mod.OwnerUID < 0 && mod.OwnerGID < 0 && !mod.SkipXattrsIn(im.r)
	n := importWorkers()
	im.jobs = newJobQueue()
	for i := 0; i < n; i++ {
		im.wg.Add(1)
		go im.worker()
	}
	var st unix.Stat_t
	var root *mtree.Tree
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		err = unix.Fstat(fd, &st)
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		err = fmt.Errorf("compose: %s: %w", dir, err)
	} else if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		unix.Close(fd)
		err = fmt.Errorf("compose: %s is not a directory", dir)
	} else {
		root, err = im.dir(fd, strings.TrimSuffix(dir, "/"), "/", &st)
		unix.Close(fd)
		if err != nil {
			im.fail(err) // stops the other walkers
		}
	}
	im.walking.Wait()
	im.jobs.Close()
	im.wg.Wait()
	if im.err != nil {
		err = im.err // the first failure, not the cancellation it caused
	}
	if err != nil {
		return nil, err
	}
	im.prog.Report(im.opts, true)
	return root, nil
}

func (im *importer) fail(err error) {
	im.errOnce.Do(func() { im.err = err; im.cancel() })
}

func (im *importer) report() { im.prog.Report(im.opts, false) }

// dir walks one directory, open at fd: subdirectories recursively in this
// goroutine, files handed to the workers, unchanged hardlinks into the
// repository (--link-checkout-speedup) named right here.
func (im *importer) dir(fd int, path, rel string, st *unix.Stat_t) (*mtree.Tree, error) {
	if err := im.ctx.Err(); err != nil {
		return nil, err
	}
	uid, gid, mode := st.Uid, st.Gid, st.Mode
	im.mod.Apply(im.r, rel, &uid, &gid, &mode)
	meta := &object.DirMeta{UID: uid, GID: gid, Mode: mode}
	if !im.mod.SkipXattrsIn(im.r) {
		xs, err := fsutil.FListXattrs(fd)
		if err != nil {
			return nil, fmt.Errorf("compose: %s: %w", path, err)
		}
		meta.Xattrs = make([]object.Xattr, len(xs))
		for i, x := range xs {
			meta.Xattrs[i] = object.Xattr{Name: x.Name, Value: x.Value}
		}
	}
	metaSum, err := im.tx.WriteMeta(im.ctx, oid.DirMeta, meta.Marshal())
	if err != nil {
		return nil, err
	}
	// Listed first, so that the tree's maps are made at their size.
	var ents []fsutil.Dirent
	nDirs := 0
	if err := fsutil.ReadDirents(fd, func(d fsutil.Dirent) error {
		ents = append(ents, d)
		if d.Type == unix.DT_DIR {
			nDirs++
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("compose: read %s: %w", path, err)
	}
	t := mtree.NewSized(metaSum, len(ents)-nDirs, nDirs)
	inoOK := im.direntInoReliable(fd, st.Dev)
	err = each(ents, func(d fsutil.Dirent) error {
		name := d.Name
		if err := object.ValidateName(name); err != nil {
			return fmt.Errorf("compose: %s: %w", path, err)
		}
		childRel := mtree.Join(rel, name)
		if inoOK && d.Type == unix.DT_REG && im.reuseAsIs(childRel) {
			if sum, ok := im.mod.DevIno[repo.DevIno{Dev: st.Dev, Ino: d.Ino}]; ok {
				im.treeMu.Lock()
				t.PutFile(name, sum)
				im.treeMu.Unlock()
				im.prog.Reused.Add(1)
				if im.prog.Scanned.Add(1)%256 == 0 {
					im.report()
				}
				return nil
			}
		}
		child := path + "/" + name
		var cst unix.Stat_t
		cfd := -1
		if d.Type == unix.DT_DIR {
			// Opened first and stat'ed through the descriptor: one name
			// lookup instead of two.
			var err error
			cfd, err = unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err == nil {
				if err = unix.Fstat(cfd, &cst); err != nil {
					unix.Close(cfd)
				}
			}
			if err != nil {
				return fmt.Errorf("compose: open %s: %w", child, err)
			}
		} else if err := unix.Fstatat(fd, name, &cst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("compose: lstat %s: %w", child, err)
		}
		switch cst.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if im.mod.Skip[childRel] {
				if cfd >= 0 {
					unix.Close(cfd)
				}
				im.mod.Apply(im.r, childRel, new(uint32), new(uint32), new(uint32))
				return nil
			}
			if cfd < 0 { // the filesystem did not give the type
				var err error
				if cfd, err = unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err != nil {
					return fmt.Errorf("compose: open %s: %w", child, err)
				}
			}
			walk := func() error {
				sub, err := im.dir(cfd, child, childRel, &cst)
				unix.Close(cfd)
				if err != nil {
					return err
				}
				im.treeMu.Lock()
				t.PutDir(name, sub)
				im.treeMu.Unlock()
				return nil
			}
			// Subtrees go to another walker while one is free: walking
			// is syscalls, which overlap on every core.
			select {
			case im.walkSlots <- struct{}{}:
				im.walking.Add(1)
				go func() {
					defer im.walking.Done()
					if err := walk(); err != nil {
						im.fail(err)
					}
					<-im.walkSlots
				}()
				return nil
			default:
				return walk()
			}
		case unix.S_IFLNK:
			// A symlink is its header: cheaper to name here than to
			// hand over.
			j := fileJob{path: child, rel: childRel, st: cst, tree: t, name: name, dirfd: fd}
			sum, skip, err := im.file(j)
			if err != nil {
				return err
			}
			im.record(j, sum, skip)
		case unix.S_IFREG:
			if err := im.ctx.Err(); err != nil {
				return err
			}
			im.jobs.Put(fileJob{path: child, rel: childRel, st: cst, tree: t, name: name})
		default:
			return fmt.Errorf("%w: %s (only regular files, symlinks and directories can be committed)", mtree.ErrUnsupported, child)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func each[T any](xs []T, fn func(T) error) error {
	for _, x := range xs {
		if err := fn(x); err != nil {
			return err
		}
	}
	return nil
}

// reuseAsIs reports whether a devino hit at path may be taken without
// looking at the file: the modifier changes nothing there, so the object
// the inode is a hardlink of is exactly what a full read would commit.
func (im *importer) reuseAsIs(path string) bool {
	if len(im.mod.DevIno) == 0 || !im.identity {
		return false
	}
	if _, ok := im.mod.ModeAdd[path]; ok {
		return false
	}
	if _, ok := im.mod.ModeSet[path]; ok {
		return false
	}
	return !im.mod.Skip[path]
}

// direntInoReliable caches fsutil.DirentInoReliable per device.
func (im *importer) direntInoReliable(fd int, dev uint64) bool {
	im.inoMu.Lock()
	defer im.inoMu.Unlock()
	ok, seen := im.inoReliable[dev]
	if !seen {
		ok = fsutil.DirentInoReliable(fd)
		im.inoReliable[dev] = ok
	}
	return ok
}

func (im *importer) worker() {
	defer im.wg.Done()
	for {
		j, ok := im.jobs.Get()
		if !ok {
			im.flushOnce.Do(im.flushWhileBusy)
			return
		}
		if im.ctx.Err() != nil {
			continue
		}
		im.inFlight.Add(j.st.Size)
		sum, skip, err := im.file(j)
		im.inFlight.Add(-j.st.Size)
		if err != nil {
			im.fail(err)
			continue
		}
		im.record(j, sum, skip)
	}
}

// flushWhileBusy runs when the walk is over and nothing is queued: if the
// other workers still have large files to finish, the objects written so
// far are synced and moved into the repository meanwhile instead of after
// them while nothing else runs.
func (im *importer) flushWhileBusy() {
	if im.ctx.Err() != nil {
		return
	}
	if err := im.tx.FlushIfBusy(im.ctx, im.inFlight.Load()); err != nil {
		im.fail(err)
	}
}

// record enters a committed file into its tree.
func (im *importer) record(j fileJob, sum oid.Checksum, skip bool) {
	if skip {
		return
	}
	im.treeMu.Lock()
	j.tree.PutFile(j.name, sum)
	im.treeMu.Unlock()
	if im.prog.Scanned.Add(1)%256 == 0 {
		im.report()
	}
}

// file commits one regular file or symlink.
func (im *importer) file(j fileJob) (sum oid.Checksum, skip bool, err error) {
	hdr := &object.FileHeader{UID: j.st.Uid, GID: j.st.Gid, Mode: j.st.Mode}
	cached, hit := im.mod.DevIno[repo.DevIno{Dev: j.st.Dev, Ino: j.st.Ino}]
	switch {
	case hit && im.r.Mode() == repo.ModeBareUser:
		// The checkout's inode is the object itself; its real ownership
		// and xattrs are in user.ostreemeta, not on the inode.
		if h, err := repo.HardlinkHeader(j.path); err == nil {
			hdr = h
		} else {
			c, err := im.r.OpenContent(im.ctx, cached)
			if err != nil {
				return sum, false, err
			}
			c.Close()
			hdr = c.Header
		}
	case hit || !im.mod.SkipXattrsIn(im.r):
		if hdr.Xattrs, err = readXattrs(j.path); err != nil {
			return sum, false, err
		}
	}
	orig := *hdr
	if im.mod.Apply(im.r, j.rel, &hdr.UID, &hdr.GID, &hdr.Mode) {
		return sum, true, nil
	}
	if im.mod.SkipXattrsIn(im.r) {
		hdr.Xattrs = nil
	}
	// A devino hit is only the right object if the modifier left the
	// metadata as the object has it.
	if hit && orig.UID == hdr.UID && orig.GID == hdr.GID && orig.Mode == hdr.Mode && object.XattrsEqual(orig.Xattrs, hdr.Xattrs) {
		im.prog.Reused.Add(1)
		return cached, false, nil
	}
	if j.st.Mode&unix.S_IFMT == unix.S_IFLNK {
		target, err := readlink(j)
		if err != nil {
			return sum, false, fmt.Errorf("compose: %w", err)
		}
		hdr.SymlinkTarget = target
		sum, err = im.tx.WriteContent(im.ctx, hdr, nil, 0)
		return sum, false, err
	}
	return im.regular(j, hdr)
}

func (im *importer) regular(j fileJob, hdr *object.FileHeader) (oid.Checksum, bool, error) {
	size := j.st.Size
	if im.r.Mode() != repo.ModeArchive {
		f, err := os.Open(j.path)
		if err != nil {
			return oid.Checksum{}, false, fmt.Errorf("compose: %w", err)
		}
		defer f.Close()
		before := im.tx.Stats().ContentWritten
		sum, err := im.tx.WriteContent(im.ctx, hdr, f, size)
		if err == nil && im.tx.Stats().ContentWritten != before {
			im.prog.Written.Add(1)
			im.prog.Bytes.Add(size)
		}
		return sum, false, wrapPath(j.path, err)
	}
	// Archive: compression is the expensive part, so hash first and
	// compress only objects the repository lacks. A file that fits a
	// pooled buffer is read once: hashed and compressed from memory. A
	// larger one is read twice, but hashed with SHA-256 once: the second
	// read only has to match a cheap check of the first.
	fd, err := openRaw(j.path)
	if err != nil {
		return oid.Checksum{}, false, fmt.Errorf("compose: %w", err)
	}
	defer unix.Close(fd)
	bp := fileBufs.Get().(*[]byte)
	defer fileBufs.Put(bp)
	changed := func(err error) error {
		if errors.Is(err, errChanged) {
			return fmt.Errorf("compose: %s changed while being committed", j.path)
		}
		return fmt.Errorf("compose: read %s: %w", j.path, err)
	}
	var sum oid.Checksum
	var check uint64
	var buf []byte
	if size <= inMemoryMax {
		buf = (*bp)[:size+1] // one more byte shows a file that grew
		n, err := readSmall(fd, buf)
		if err != nil {
			return oid.Checksum{}, false, changed(err)
		}
		if int64(n) != size {
			return oid.Checksum{}, false, changed(errChanged)
		}
		buf = buf[:size]
		if sum, err = object.ContentChecksum(hdr, bytes.NewReader(buf)); err != nil {
			return sum, false, err
		}
	} else if sum, check, err = hashLarge(fd, hdr, size, *bp); err != nil {
		return oid.Checksum{}, false, changed(err)
	}
	name := oid.ObjectName{Checksum: sum, Type: oid.File}
	if ok, err := im.tx.Has(im.ctx, name); err != nil || ok {
		return sum, false, err
	}
	if buf != nil {
		err = im.tx.WriteContentHashed(im.ctx, sum, hdr, buf)
	} else {
		err = im.tx.WriteContentVerified(im.ctx, sum, hdr, &fdReader{fd: fd}, size, newCheck(), check)
	}
	if err != nil {
		var ce *object.CorruptError
		if errors.As(err, &ce) {
			return sum, false, changed(errChanged)
		}
		return sum, false, wrapPath(j.path, err)
	}
	im.prog.Written.Add(1)
	im.prog.Bytes.Add(size)
	return sum, false, nil
}

// inMemoryMax is the largest file an archive commit reads into memory.
const inMemoryMax = 1 << 20

var fileBufs = sync.Pool{New: func() any { b := make([]byte, inMemoryMax+1); return &b }}

// readlink reads a symlink's target relative to its open directory when
// the walker has it, by path otherwise.
func readlink(j fileJob) (string, error) {
	if j.dirfd <= 0 {
		return os.Readlink(j.path)
	}
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(j.dirfd, j.name, buf)
		if err != nil {
			return "", &os.PathError{Op: "readlink", Path: j.path, Err: err}
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

func wrapPath(path string, err error) error {
	if err == nil || strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("compose: %s: %w", path, err)
}

func readXattrs(path string) ([]object.Xattr, error) {
	xs, err := fsutil.ListXattrs(path)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	out := make([]object.Xattr, len(xs))
	for i, x := range xs {
		out[i] = object.Xattr{Name: x.Name, Value: x.Value}
	}
	return out, nil
}

// importWorkers is how many files are committed at once: more than the
// cores, because much of each file's cost is the kernel creating and
// linking inodes, which overlaps across threads.
func importWorkers() int { return 4 * runtime.GOMAXPROCS(0) }
