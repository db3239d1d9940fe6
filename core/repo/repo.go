package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/repo/internal/loose"
	"github.com/groveos/grove/core/repo/internal/refs"
	"golang.org/x/sys/unix"
)

// Errors returned by this package.
var (
	ErrNotRepo     = errors.New("repo: not an OSTree repository")
	ErrConfig      = errors.New("repo: invalid config")
	ErrMode        = loose.ErrMode
	ErrNotFound    = loose.ErrNotFound
	ErrRefNotFound = refs.ErrRefNotFound
	ErrAmbiguous   = refs.ErrAmbiguous
	ErrLocked      = errors.New("repo: lock timeout")
	ErrReadOnly    = loose.ErrReadOnly
)

// Repo is an open repository. Reading objects (HasObject, ReadMeta,
// OpenContent, Load*, listings, ObjectDir…) is the embedded loose store's;
// refs (ListRefs, ReadRef, ResolveRev, SetRef…) the embedded Refs'.
type Repo struct {
	*loose.Store
	*refs.Refs
	path   string
	config *keyfile.File

	zlibLevel   int
	lockTimeout time.Duration
	parent      *Repo
}

// settings are what the config says, checked.
type settings struct {
	store       loose.Settings
	zlibLevel   int
	lockTimeout time.Duration
}

// CreateOptions configure Create.
type CreateOptions struct {
	Mode         Mode
	CollectionID string
}

// Create makes a new repository at path, like `ostree init`; an existing
// repository (one with objects/) is opened unchanged.
func Create(ctx context.Context, path string, opts CreateOptions) (*Repo, error) {
	if _, err := os.Stat(filepath.Join(path, "objects")); err == nil {
		return Open(ctx, path)
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("repo: create %s: %w", path, err)
	}
	kf := &keyfile.File{}
	kf.Set("core", "repo_version", "1")
	kf.Set("core", "mode", opts.Mode.String())
	if opts.CollectionID != "" {
		kf.Set("core", "collection-id", opts.CollectionID)
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(path, "config"), kf.Bytes(), 0o644, true); err != nil {
		return nil, fmt.Errorf("repo: create %s: %w", path, err)
	}
	// objects/ last: its presence is what makes a directory a repository.
	for _, d := range []string{"extensions", "refs/heads", "refs/mirrors", "refs/remotes", "state", "tmp/cache", "objects"} {
		if err := os.MkdirAll(filepath.Join(path, d), 0o755); err != nil {
			return nil, fmt.Errorf("repo: create %s: %w", path, err)
		}
	}
	if err := fsutil.SyncDir(path); err != nil {
		return nil, fmt.Errorf("repo: create %s: %w", path, err)
	}
	r, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if opts.Mode == ModeBareUser {
		if err := r.probeUserXattrs(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Repo) probeUserXattrs() error {
	f, err := os.CreateTemp(r.TmpDir(), "xattr-probe-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), "user.ostreemeta", []byte("x"), 0); err != nil {
		return fmt.Errorf("repo: bare-user needs user xattrs on %s: %w", r.path, err)
	}
	return nil
}

// Open opens an existing repository.
func Open(ctx context.Context, path string) (*Repo, error) {
	if st, err := os.Stat(filepath.Join(path, "objects")); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: %s (no objects/ directory)", ErrNotRepo, path)
	}
	data, err := os.ReadFile(filepath.Join(path, "config"))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotRepo, path, err)
	}
	kf, err := keyfile.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s/config: %w", ErrConfig, path, err)
	}
	set, err := readConfig(kf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := &Repo{path: path, config: kf}
	var parentStore *loose.Store
	var parentRefs *refs.Refs
	if p := kf.String("core", "parent", ""); p != "" {
		if r.parent, err = Open(ctx, p); err != nil {
			return nil, fmt.Errorf("repo: parent of %s: %w", path, err)
		}
		parentStore, parentRefs = r.parent.Store, r.parent.Refs
	}
	r.Store = loose.New(path, set.store, parentStore)
	r.Refs = refs.New(path, r.Store, parentRefs)
	r.apply(set)
	return r, nil
}

func (r *Repo) apply(set settings) {
	r.Store.Configure(set.store)
	r.zlibLevel, r.lockTimeout = set.zlibLevel, set.lockTimeout
}

// readConfig checks a config and returns what it says.
func readConfig(kf *keyfile.File) (settings, error) {
	set, err := parseConfig(kf)
	if errors.Is(err, keyfile.ErrValue) {
		err = fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return set, err
}

func parseConfig(kf *keyfile.File) (settings, error) {
	var set settings
	if v := kf.String("core", "repo_version", ""); v != "1" {
		return set, fmt.Errorf("%w: core.repo_version is %q, want 1", ErrConfig, v)
	}
	if arch, _ := kf.Bool("core", "archive", false); arch {
		return set, fmt.Errorf("%w: legacy core.archive=true is not supported", ErrConfig)
	}
	m, err := ParseMode(kf.String("core", "mode", "bare"))
	if err != nil {
		return set, err
	}
	set.store.Mode = m
	if set.store.Fsync, err = kf.Bool("core", "fsync", true); err != nil {
		return set, err
	}
	if set.store.DisableXattrs, err = kf.Bool("core", "disable-xattrs", false); err != nil {
		return set, err
	}
	if set.store.UncompressedCache, err = kf.Bool("core", "enable-uncompressed-cache", true); err != nil {
		return set, err
	}
	lvl, err := kf.Int("archive", "zlib-level", 6)
	if err != nil {
		return set, err
	}
	if lvl < 1 || lvl > 9 {
		return set, fmt.Errorf("%w: archive.zlib-level %d out of range 1-9", ErrConfig, lvl)
	}
	set.zlibLevel = int(lvl)
	secs, err := kf.Int("core", "lock-timeout-secs", 300)
	if err != nil {
		return set, err
	}
	set.lockTimeout = time.Duration(secs) * time.Second
	return set, nil
}

// Path is the repository directory.
func (r *Repo) Path() string { return r.path }

// Config returns a copy of the parsed config: change the copy and pass
// it to SaveConfig (a failed save then leaves the live config as it was).
func (r *Repo) Config() *keyfile.File { return r.config.Clone() }

// TmpDir is the repository's scratch directory, on the same filesystem.
func (r *Repo) TmpDir() string { return filepath.Join(r.path, "tmp") }

// SaveConfig checks kf, rewrites the config file from it atomically and
// only then makes it the live config: on any error both stay as they were.
func (r *Repo) SaveConfig(ctx context.Context, kf *keyfile.File) error {
	next := kf.Clone()
	set, err := readConfig(next)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(r.path, "config"), kf.Bytes(), 0o644, r.Fsync()); err != nil {
		return fmt.Errorf("repo: writing %s/config: %w", r.path, err)
	}
	r.config = next
	r.apply(set)
	return nil
}

// lock takes the repository lock on .lock, shared or exclusive, waiting up
// to core.lock-timeout-secs. Like libostree it uses open file description
// (OFD) locks, which on Linux do not interact with flock(2): only the same
// kind of lock excludes a concurrent ostree process.
func (r *Repo) lock(ctx context.Context, exclusive bool) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(r.path, ".lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("repo: lock: %w", err)
	}
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: 0}
	if exclusive {
		lk.Type = unix.F_WRLCK
	}
	deadline := time.Now().Add(r.lockTimeout)
	for {
		err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EACCES) {
			f.Close()
			return nil, fmt.Errorf("repo: lock: %w", err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w after %s on %s", ErrLocked, r.lockTimeout, r.path)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// LockExclusive takes the exclusive repository lock (prune, ref deletion
// that must not race with writers). Call the returned function to release.
func (r *Repo) LockExclusive(ctx context.Context) (func(), error) { return r.lock(ctx, true) }

// LockShared takes the shared repository lock.
func (r *Repo) LockShared(ctx context.Context) (func(), error) { return r.lock(ctx, false) }

func isNotExist(err error) bool { return loose.IsNotExist(err) }
