package checkout

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/internal/workq"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
	"golang.org/x/sys/unix"
)

// Overwrite says what happens to files already present in the destination.
type Overwrite int

const (
	// OverwriteNone fails on any existing file or directory (the default).
	OverwriteNone Overwrite = iota
	// OverwriteUnion keeps existing directories and replaces existing files
	// (--union).
	OverwriteUnion
	// OverwriteUnionAdd keeps existing files and directories and only adds
	// new ones (--union-add).
	OverwriteUnionAdd
	// OverwriteUnionIdentical adds new files and fails when an existing
	// file differs from the one checked out (--union-identical, needs
	// RequireHardlinks).
	OverwriteUnionIdentical
)

// Options configure Checkout.
type Options struct {
	// User is -U: no chown, no xattrs, setuid/setgid bits dropped. It is
	// forced for bare-user-only repositories, as ostree does.
	User bool
	Mode Overwrite
	// RequireHardlinks (-H) fails instead of copying a file that could
	// not be hardlinked.
	RequireHardlinks bool
	// ForceCopy (-C) never hardlinks.
	ForceCopy bool
	// Subpath checks out only this path of the commit ("" or "/" = all).
	// A file subpath is checked out as DEST/basename.
	Subpath string
	// AllowNoent makes a missing Subpath a no-op.
	AllowNoent bool
	// Whiteouts processes Docker/OCI `.wh.` whiteout entries.
	Whiteouts bool
	// BareUserOnlyDirs (-M) drops directory mode bits outside 0775.
	BareUserOnlyDirs bool
	// UseUncompressedCache hardlinks files of an archive repository from
	// its uncompressed-objects-cache/ in user mode, when the cache exists
	// and core.enable-uncompressed-cache is not false, as a plain
	// `ostree checkout -U` does. Grove reads the cache but never fills it.
	UseUncompressedCache bool
	// Fsync syncs every written file and directory.
	Fsync bool
	// Workers bounds the file worker pool; 0 means 2×GOMAXPROCS.
	Workers int
	// Progress receives PhaseCheckout events now and then and a Final
	// one: Done counts files and directories, Bytes the bytes copied.
	Progress progress.Func
	// Stats, when set, is filled in when the checkout succeeds.
	Stats *Stats
}

// PhaseCheckout is the progress phase of a checkout.
const PhaseCheckout = "checking out"

// Stats count what a checkout did.
type Stats struct {
	Dirs, Files, Linked, Copied int64
	Bytes                       int64 // bytes written by copies
}

// Errors returned by this package.
var (
	ErrExists     = errors.New("checkout: file exists")
	ErrNotFound   = errors.New("checkout: no such file or directory")
	ErrHardlink   = errors.New("checkout: cannot hardlink")
	ErrNotIdentic = errors.New("checkout: existing file differs")
	ErrOptions    = errors.New("checkout: invalid options")
)

// Checkout writes commit's tree (or opts.Subpath of it) to dest. Like
// ostree, dest itself is created (its parent must exist) unless a union
// mode is given; on failure or cancellation partial output is left in dest.
func Checkout(ctx context.Context, r *repo.Repo, commit oid.Checksum, dest string, opts Options) error {
	c, err := r.LoadCommit(ctx, commit)
	if err != nil {
		return fmt.Errorf("checkout: commit %s: %w", commit, err)
	}
	return CheckoutTree(ctx, r, c.RootTree, c.RootMeta, dest, opts)
}

// CheckoutTree is Checkout for a root dirtree/dirmeta pair.
func CheckoutTree(ctx context.Context, r *repo.Repo, tree, meta oid.Checksum, dest string, opts Options) error {
	if opts.ForceCopy && opts.RequireHardlinks {
		return fmt.Errorf("%w: cannot specify both --require-hardlinks and --force-copy", ErrOptions)
	}
	if opts.Mode == OverwriteUnionIdentical && !opts.RequireHardlinks {
		return fmt.Errorf("%w: --union-identical requires --require-hardlinks", ErrOptions)
	}
	if r.Mode() == repo.ModeBareUserOnly {
		opts.User = true
	}
	target, err := Resolve(ctx, r, tree, meta, opts.Subpath)
	if err != nil {
		if opts.AllowNoent && errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	co, err := newCheckouter(ctx, r, opts)
	if err != nil {
		return err
	}
	defer co.close()
	return co.run(dest, target)
}

// Target is what a subpath names inside a tree: a directory (Tree, Meta)
// or a file (File, named Name).
type Target = inspect.Node

// Resolve walks subpath ("" or "/" for the root) from a root directory as
// ostree does (inspect.ResolvePath: "." and ".." are names that never
// exist, symlinks are not followed). A missing path is ostree's
// "No such file or directory: PATH" and matches ErrNotFound.
func Resolve(ctx context.Context, r *repo.Repo, tree, meta oid.Checksum, subpath string) (Target, error) {
	if subpath == "" {
		subpath = "/"
	}
	t, err := inspect.ResolvePath(ctx, r, tree, meta, subpath)
	var pe *inspect.PathError
	if errors.As(err, &pe) {
		return t, &subpathError{pe}
	}
	return t, err
}

// subpathError is inspect's PathError (ostree's text) that also matches
// ErrNotFound.
type subpathError struct{ *inspect.PathError }

func (e *subpathError) Is(target error) bool { return target == ErrNotFound }

type fileJob struct {
	rel string // relative to the root fd
	sum oid.Checksum
	// dir, when set, is the open parent directory and name the file's
	// name in it: the syscalls then look up one name, not the whole path.
	dir  *dirHandle
	name string
}

// dirHandle is a directory opened for the files checked out into it,
// closed when the last batch of them is done unless kept for finishDir.
type dirHandle struct {
	fd   int
	refs atomic.Int32
	keep bool
}

func (h *dirHandle) release() {
	if h.refs.Add(-1) == 0 && !h.keep {
		unix.Close(h.fd)
	}
}

// at is where j's syscalls operate: its directory and its name there.
func (co *checkouter) at(j fileJob) (int, string) {
	if j.dir != nil {
		return j.dir.fd, j.name
	}
	return co.rootfd, j.rel
}

// dirDone is a created directory waiting for its final mode, owner and
// mtime, applied once everything below it exists.
type dirDone struct {
	rel  string
	meta *object.DirMeta
	// spread: FS_TOPDIR_FL was added to flags, the directory's own.
	spread bool
	flags  uint32
	// fd, when not -1, is the directory kept open since walk.
	fd int
}

type checkouter struct {
	ctx  context.Context
	r    *repo.Repo
	opts Options
	mode repo.Mode

	dest   string
	rootfd int
	objs   *repo.ObjectDir // objects/ of r (or its uncompressed cache) when linkable, else nil
	// linkable: regular files of this repo may be hardlinked in this
	// checkout mode (bare without -U, bare-user[-only] with -U).
	linkable  bool
	noXattrs  bool
	userModeR bool // repository is bare-user or bare-user-only
	// umask, when umaskOK, is the process umask (files created with their
	// final mode when it lets the mode through).
	umask   uint32
	umaskOK bool

	// emptySums: user.ostreemeta value → checksum of the empty file
	// with that metadata (bare-user links need no stat).
	emptyMu   sync.Mutex
	emptySums map[string]oid.Checksum

	metaMu    sync.Mutex
	metaCache map[oid.Checksum]*object.DirMeta
	dirsMu    sync.Mutex
	dirs      []*dirDone // every created directory, for close

	// keptFds counts directories kept open from walk to finishDir, at
	// most maxKeptFds.
	keptFds    atomic.Int64
	maxKeptFds int64
	// noSpread: the destination's filesystem refuses FS_TOPDIR_FL.
	noSpread atomic.Bool

	// q is LIFO (depth first, so memory stays small); directory tasks
	// queue more tasks and must never block doing so.
	q       *workq.Queue[task]
	pending sync.WaitGroup // tasks queued or running
	workers sync.WaitGroup
	errMu   sync.Mutex
	err     error
	cancel  context.CancelFunc
	tmpSeq  atomic.Int64
	prog    progressCounters
	stopTik chan struct{}
	tikDone chan struct{}
}

type progressCounters struct {
	dirs, files, linked, copied, bytes atomic.Int64
}

func (p *progressCounters) snapshot() Stats {
	return Stats{Dirs: p.dirs.Load(), Files: p.files.Load(), Linked: p.linked.Load(),
		Copied: p.copied.Load(), Bytes: p.bytes.Load()}
}

func newCheckouter(ctx context.Context, r *repo.Repo, opts Options) (*checkouter, error) {
	ctx, cancel := context.WithCancel(ctx)
	co := &checkouter{
		ctx: ctx, r: r, opts: opts, mode: r.Mode(), rootfd: -1,
		noXattrs:  r.DisableXattrs(),
		metaCache: map[oid.Checksum]*object.DirMeta{},
		cancel:    cancel,
	}
	co.umask, co.umaskOK = processUmask()
	co.maxKeptFds = maxKeptDirs()
	co.userModeR = co.mode == repo.ModeBareUser || co.mode == repo.ModeBareUserOnly
	co.linkable = (co.mode == repo.ModeBare && !opts.User) || (co.userModeR && opts.User)
	if co.mode.IsBare() {
		d, err := r.OpenObjectDir()
		if err != nil {
			cancel()
			return nil, fmt.Errorf("checkout: %w", err)
		}
		co.objs = d
	} else if co.mode == repo.ModeArchive && opts.User && opts.UseUncompressedCache && !opts.ForceCopy {
		if d, ok := r.OpenUncompressedCache(); ok {
			co.objs, co.linkable = d, true
		}
	}
	return co, nil
}

func (co *checkouter) close() {
	co.cancel()
	for _, d := range co.dirs { // left unfinished by a checkout that failed
		if d.fd >= 0 {
			unspreadDir(d.fd, d.flags)
			unix.Close(d.fd)
		}
	}
	if co.objs != nil {
		co.objs.Close()
	}
	if co.rootfd >= 0 {
		unix.Close(co.rootfd)
	}
}

// fail records the first error and stops the other workers.
func (co *checkouter) fail(err error) {
	co.errMu.Lock()
	if co.err == nil {
		co.err = err
	}
	co.errMu.Unlock()
	co.cancel()
}

func (co *checkouter) firstErr() error {
	co.errMu.Lock()
	defer co.errMu.Unlock()
	return co.err
}

func (co *checkouter) run(dest string, target Target) error {
	co.dest = dest
	if target.IsFile {
		// ostree makes the destination directory (an existing one is fine)
		// and checks the file out inside it; the directory keeps mode 0700.
		if err := unix.Mkdir(dest, 0o700); err != nil && err != unix.EEXIST {
			return fmt.Errorf("checkout: mkdir %s: %w", dest, err)
		}
		if err := co.openRoot(); err != nil {
			return err
		}
		co.prog.files.Add(1)
		if err := co.doFile(fileJob{rel: target.Name, sum: target.File}); err != nil {
			return err
		}
		co.reportFinal()
		return nil
	}

	didExist, err := co.mkdir(unix.AT_FDCWD, dest)
	if err != nil {
		return err
	}
	if err := co.openRoot(); err != nil {
		return err
	}
	if !didExist {
		if flags, ok := co.spreadDir(co.rootfd); ok {
			defer unspreadDir(co.rootfd, flags)
		}
	}
	if co.opts.RequireHardlinks {
		var a, b unix.Stat_t
		if err := unix.Stat(co.r.Path(), &a); err != nil {
			return fmt.Errorf("checkout: stat %s: %w", co.r.Path(), err)
		}
		if err := unix.Fstat(co.rootfd, &b); err != nil {
			return fmt.Errorf("checkout: stat %s: %w", dest, err)
		}
		if a.Dev != b.Dev {
			return fmt.Errorf("%w: unable to do hardlink checkout across devices (src=%d destination=%d)", ErrHardlink, a.Dev, b.Dev)
		}
	}

	workers := co.opts.Workers
	if workers <= 0 {
		workers = 2 * runtime.GOMAXPROCS(0)
	}
	co.q = workq.NewQueue[task](nil)
	for i := 0; i < workers; i++ {
		co.workers.Add(1)
		go co.worker()
	}
	if co.opts.Progress != nil {
		co.stopTik, co.tikDone = make(chan struct{}), make(chan struct{})
		go co.ticker()
	}

	root := &dirNode{}
	root.pending.Store(1)
	co.push(task{dir: &dirTask{rel: ".", tree: target.Tree, meta: target.Meta, didExist: didExist, node: root}})
	co.pending.Wait()
	co.q.Close()
	co.workers.Wait()
	if co.stopTik != nil {
		close(co.stopTik)
		<-co.tikDone
	}
	if err := co.firstErr(); err != nil {
		return err
	}
	if err := co.ctx.Err(); err != nil {
		return err
	}
	co.reportFinal()
	return nil
}

func (co *checkouter) report() {
	if co.opts.Progress != nil {
		st := co.prog.snapshot()
		co.opts.Progress(progress.Event{Phase: PhaseCheckout, Done: st.Files + st.Dirs, Bytes: st.Bytes})
	}
}

func (co *checkouter) reportFinal() {
	st := co.prog.snapshot()
	if co.opts.Progress != nil {
		co.opts.Progress(progress.Event{Phase: PhaseCheckout, Done: st.Files + st.Dirs, Bytes: st.Bytes, Final: true})
	}
	if co.opts.Stats != nil {
		*co.opts.Stats = st
	}
}

func (co *checkouter) ticker() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	defer close(co.tikDone)
	for {
		select {
		case <-co.stopTik:
			return
		case <-t.C:
			co.report()
		}
	}
}

func (co *checkouter) openRoot() error {
	fd, err := unix.Open(co.dest, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("checkout: open %s: %w", co.dest, err)
	}
	co.rootfd = fd
	co.noSpread.Store(!scansFreedInodes(fd))
	return nil
}

// abs is the path of rel for calls that have no *at form (xattrs).
func (co *checkouter) abs(rel string) string {
	if rel == "." {
		return co.dest
	}
	return co.dest + "/" + rel
}

// mkdir creates a directory with mode 0700 (the final mode comes last);
// an existing one is accepted in the union modes.
func (co *checkouter) mkdir(dirfd int, rel string) (didExist bool, err error) {
	err = unix.Mkdirat(dirfd, rel, 0o700)
	if err == nil {
		return false, nil
	}
	name := rel
	if dirfd != unix.AT_FDCWD {
		name = co.abs(rel)
	}
	if err == unix.EEXIST && co.opts.Mode != OverwriteNone {
		return true, nil
	}
	if err == unix.EEXIST {
		return false, fmt.Errorf("%w: mkdirat %s", ErrExists, name)
	}
	return false, fmt.Errorf("checkout: mkdirat %s: %w", name, err)
}

func (co *checkouter) dirMeta(sum oid.Checksum) (*object.DirMeta, error) {
	co.metaMu.Lock()
	m, ok := co.metaCache[sum]
	co.metaMu.Unlock()
	if ok {
		return m, nil
	}
	m, err := co.r.LoadDirMeta(co.ctx, sum)
	if err != nil {
		return nil, err
	}
	co.metaMu.Lock()
	co.metaCache[sum] = m
	co.metaMu.Unlock()
	return m, nil
}

const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// walk creates rel (already created, or existing, for the root), queues its
// files for the workers and recurses into its subdirectories.
func (co *checkouter) walk(t *dirTask) error {
	rel, treeSum, metaSum, didExist := t.rel, t.tree, t.meta, t.didExist
	if err := co.ctx.Err(); err != nil {
		return err
	}
	dt, err := co.r.LoadDirTree(co.ctx, treeSum)
	if err != nil {
		return fmt.Errorf("checkout: %s: %w", co.abs(rel), err)
	}
	meta, err := co.dirMeta(metaSum)
	if err != nil {
		return fmt.Errorf("checkout: %s: %w", co.abs(rel), err)
	}
	if rel != "." {
		if co.opts.Whiteouts {
			if f, _ := dt.Lookup(opaqueWhiteout); f != nil {
				if err := co.removeAll(rel); err != nil {
					return fmt.Errorf("checkout: opaque whiteout %s: %w", co.abs(rel), err)
				}
			}
		}
		didExist, err = co.mkdir(co.rootfd, rel)
		if err != nil {
			return err
		}
	}
	co.prog.dirs.Add(1)
	if !didExist && !co.opts.User && !co.noXattrs && len(meta.Xattrs) > 0 {
		for _, x := range meta.Xattrs {
			if err := unix.Lsetxattr(co.abs(rel), x.Name, x.Value, 0); err != nil {
				return fmt.Errorf("checkout: setxattr %s %s: %w", co.abs(rel), x.Name, err)
			}
		}
	}
	// A directory this checkout created with subdirectories is opened
	// readable and spread (see spreadDir) before they are made; its files
	// are created relative to the same descriptor. Leaves are not spread:
	// their files follow them wherever their parent placed them.
	var h *dirHandle
	done := &dirDone{rel: rel, meta: meta, fd: -1}
	if !didExist && rel != "." && len(dt.Dirs) > 0 && !co.noSpread.Load() {
		if fd, err := unix.Openat(co.rootfd, rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err == nil {
			h = &dirHandle{fd: fd}
			done.flags, done.spread = co.spreadDir(fd)
			// finishDir will need the descriptor again, unless
			// that keeps too many open.
			if done.spread && co.keptFds.Add(1) <= co.maxKeptFds {
				h.keep, done.fd = true, fd
			}
		}
	}
	if !didExist {
		t.node.done = done
		co.dirsMu.Lock()
		co.dirs = append(co.dirs, done)
		co.dirsMu.Unlock()
	}

	prefix := ""
	if rel != "." {
		prefix = rel + "/"
	}
	// The files get a handle on their directory (if one can be had:
	// without, they fall back to paths from the root).
	if h == nil && len(dt.Files) > 0 {
		if fd, err := unix.Openat(co.rootfd, rel, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err == nil {
			h = &dirHandle{fd: fd}
		}
	}
	if h != nil {
		h.refs.Store(1)
		defer h.release()
	}
	flush := func(batch []fileJob) {
		if h != nil {
			h.refs.Add(1)
		}
		t.node.pending.Add(1)
		co.push(task{files: batch, hold: h, node: t.node})
	}
	var batch []fileJob
	for _, f := range dt.Files {
		if err := object.ValidateName(f.Name); err != nil {
			return fmt.Errorf("checkout: %s%s: %w", prefix, f.Name, err)
		}
		if co.opts.Whiteouts && strings.HasPrefix(f.Name, whiteoutPrefix) {
			name := f.Name[len(whiteoutPrefix):]
			if name == "" {
				return fmt.Errorf("checkout: invalid empty whiteout %s%s", prefix, f.Name)
			}
			if f.Name == opaqueWhiteout {
				continue
			}
			if err := co.removeAll(prefix + name); err != nil {
				return fmt.Errorf("checkout: whiteout %s%s: %w", prefix, f.Name, err)
			}
			continue
		}
		j := fileJob{rel: prefix + f.Name, sum: f.Checksum}
		if h != nil {
			j.dir, j.name = h, f.Name
		}
		batch = append(batch, j)
		if len(batch) == filesPerTask {
			flush(batch)
			batch = nil
		}
	}
	if len(batch) > 0 {
		flush(batch)
	}
	for _, d := range dt.Dirs {
		if err := object.ValidateName(d.Name); err != nil {
			return fmt.Errorf("checkout: %s%s: %w", prefix, d.Name, err)
		}
		child := &dirNode{parent: t.node}
		child.pending.Store(1)
		t.node.pending.Add(1)
		co.push(task{dir: &dirTask{rel: prefix + d.Name, tree: d.Tree, meta: d.Meta, node: child}})
	}
	return nil
}

// filesPerTask splits only large directories: two workers creating
// entries in one directory contend for its lock, so the files of most
// directories are one task.
const filesPerTask = 256

// task is a directory to create and scan, or a batch of files.
type task struct {
	dir   *dirTask
	files []fileJob
	hold  *dirHandle // released when the files are done
	node  *dirNode   // the files' directory
}

type dirTask struct {
	rel        string
	tree, meta oid.Checksum
	didExist   bool
	node       *dirNode
}

// dirNode counts what a directory waits for before it is finished (its
// final mode, owner and mtime): its own scan, its file tasks and its
// subdirectories. Children before parents: a directory becomes read-only
// or foreign owned only once everything below it is in place, and the
// last worker to finish something below it finishes it, so directories
// are finished while other subtrees are still being checked out.
type dirNode struct {
	parent  *dirNode
	pending atomic.Int32
	done    *dirDone // nil for a directory that existed (union modes)
}

// complete records that one thing n waited for is done, finishing n and
// then its ancestors as their counts reach zero.
func (co *checkouter) complete(n *dirNode) error {
	for ; n != nil; n = n.parent {
		if n.pending.Add(-1) != 0 {
			return nil
		}
		if n.done != nil {
			if err := co.finishDir(n.done); err != nil {
				return err
			}
		}
	}
	return nil
}

func (co *checkouter) push(t task) {
	co.pending.Add(1)
	co.prog.files.Add(int64(len(t.files)))
	co.q.Put(t)
}

func (co *checkouter) worker() {
	defer co.workers.Done()
	for {
		t, ok := co.q.Get()
		if !ok {
			return
		}
		if co.ctx.Err() == nil {
			if err := co.runTask(t); err != nil {
				co.fail(err)
			}
		} else if t.hold != nil {
			t.hold.release()
		}
		co.pending.Done()
	}
}

func (co *checkouter) runTask(t task) error {
	if t.dir != nil {
		if err := co.walk(t.dir); err != nil {
			return err
		}
		return co.complete(t.dir.node)
	}
	if t.hold != nil {
		defer t.hold.release()
	}
	for _, j := range t.files {
		if co.ctx.Err() != nil {
			return nil
		}
		if err := co.doFile(j); err != nil {
			return err
		}
	}
	return co.complete(t.node)
}

func (co *checkouter) finishDir(d *dirDone) error {
	mode := d.meta.Mode & 0o7777
	if co.mode == repo.ModeBareUserOnly || co.opts.BareUserOnlyDirs {
		mode &= 0o775
	}
	name := co.abs(d.rel)
	if d.spread {
		return co.finishSpreadDir(d, mode, name)
	}
	if err := unix.Fchmodat(co.rootfd, d.rel, mode, 0); err != nil {
		return fmt.Errorf("checkout: chmod %s: %w", name, err)
	}
	if !co.opts.User {
		if err := unix.Fchownat(co.rootfd, d.rel, int(d.meta.UID), int(d.meta.GID), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("checkout: chown %s: %w", name, err)
		}
	}
	// ostree gives directories a constant mtime (0) so checkouts are
	// reproducible, except in copy mode.
	if !co.opts.ForceCopy {
		ts := []unix.Timespec{{Sec: 0, Nsec: unix.UTIME_OMIT}, {Sec: 0, Nsec: 0}}
		if err := unix.UtimesNanoAt(co.rootfd, d.rel, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("checkout: utimens %s: %w", name, err)
		}
	}
	if co.opts.Fsync {
		fd, err := unix.Openat(co.rootfd, d.rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("checkout: open %s: %w", name, err)
		}
		err = unix.Fsync(fd)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("checkout: fsync %s: %w", name, err)
		}
	}
	return nil
}

// finishSpreadDir is finishDir through a descriptor, which the flags need
// anyway: the spread flag goes first (it needs ownership, not write
// permission), then mode, owner, mtime and the optional fsync.
func (co *checkouter) finishSpreadDir(d *dirDone, mode uint32, name string) error {
	fd := d.fd
	if fd < 0 {
		var err error
		fd, err = unix.Openat(co.rootfd, d.rel, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("checkout: open %s: %w", name, err)
		}
	}
	d.fd = -1
	defer unix.Close(fd)
	unspreadDir(fd, d.flags)
	if err := unix.Fchmod(fd, mode); err != nil {
		return fmt.Errorf("checkout: chmod %s: %w", name, err)
	}
	if !co.opts.User {
		if err := unix.Fchown(fd, int(d.meta.UID), int(d.meta.GID)); err != nil {
			return fmt.Errorf("checkout: chown %s: %w", name, err)
		}
	}
	if !co.opts.ForceCopy {
		ts := []unix.Timespec{{Sec: 0, Nsec: unix.UTIME_OMIT}, {Sec: 0, Nsec: 0}}
		if err := unix.UtimesNanoAt(fd, "", ts, unix.AT_EMPTY_PATH); err != nil {
			return fmt.Errorf("checkout: utimens %s: %w", name, err)
		}
	}
	if co.opts.Fsync {
		if err := unix.Fsync(fd); err != nil {
			return fmt.Errorf("checkout: fsync %s: %w", name, err)
		}
	}
	return nil
}

// maxKeptDirs is how many directory descriptors a checkout keeps open for
// finishDir: half of what the descriptor limit leaves after a reserve for
// objects being read and files being written.
func maxKeptDirs() int64 {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil || lim.Cur < 1024 {
		return 0
	}
	return int64(min(lim.Cur-512, 1<<20) / 2)
}
