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
	"golang.org/x/sys/unix"
)

// Errors returned by this package.
var (
	ErrNotRepo     = errors.New("repo: not an OSTree repository")
	ErrConfig      = errors.New("repo: invalid config")
	ErrMode        = errors.New("repo: invalid mode")
	ErrNotFound    = errors.New("repo: object not found")
	ErrRefNotFound = errors.New("repo: ref not found")
	ErrAmbiguous   = errors.New("repo: ambiguous checksum")
	ErrLocked      = errors.New("repo: lock timeout")
	ErrReadOnly    = errors.New("repo: operation not possible in this mode")
)

// Repo is an open repository.
type Repo struct {
	path   string
	mode   Mode
	config *keyfile.File

	fsync       bool
	zlibLevel   int
	noXattrs    bool
	lockTimeout time.Duration
	parent      *Repo
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
	r := &Repo{path: path, config: kf}
	if err := r.loadConfig(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if p := kf.String("core", "parent", ""); p != "" {
		if r.parent, err = Open(ctx, p); err != nil {
			return nil, fmt.Errorf("repo: parent of %s: %w", path, err)
		}
	}
	return r, nil
}

func (r *Repo) loadConfig() error {
	if err := r.readConfig(); err != nil {
		if errors.Is(err, keyfile.ErrValue) {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		return err
	}
	return nil
}

func (r *Repo) readConfig() error {
	kf := r.config
	if v := kf.String("core", "repo_version", ""); v != "1" {
		return fmt.Errorf("%w: core.repo_version is %q, want 1", ErrConfig, v)
	}
	if arch, _ := kf.Bool("core", "archive", false); arch {
		return fmt.Errorf("%w: legacy core.archive=true is not supported", ErrConfig)
	}
	m, err := ParseMode(kf.String("core", "mode", "bare"))
	if err != nil {
		return err
	}
	r.mode = m
	if r.fsync, err = kf.Bool("core", "fsync", true); err != nil {
		return err
	}
	if r.noXattrs, err = kf.Bool("core", "disable-xattrs", false); err != nil {
		return err
	}
	lvl, err := kf.Int("archive", "zlib-level", 6)
	if err != nil {
		return err
	}
	if lvl < 1 || lvl > 9 {
		return fmt.Errorf("%w: archive.zlib-level %d out of range 1-9", ErrConfig, lvl)
	}
	r.zlibLevel = int(lvl)
	secs, err := kf.Int("core", "lock-timeout-secs", 300)
	if err != nil {
		return err
	}
	r.lockTimeout = time.Duration(secs) * time.Second
	return nil
}

// Path is the repository directory.
func (r *Repo) Path() string { return r.path }

// Mode is how content objects are stored.
func (r *Repo) Mode() Mode { return r.mode }

// Config returns a copy of the parsed config: change the copy and pass
// it to SaveConfig (a failed save then leaves the live config as it was).
func (r *Repo) Config() *keyfile.File { return r.config.Clone() }

// DisableXattrs reports core.disable-xattrs.
func (r *Repo) DisableXattrs() bool { return r.noXattrs }

// Fsync reports whether writes are synced (core.fsync).
func (r *Repo) Fsync() bool { return r.fsync }

// TmpDir is the repository's scratch directory, on the same filesystem.
func (r *Repo) TmpDir() string { return filepath.Join(r.path, "tmp") }

// SaveConfig checks kf, rewrites the config file from it atomically and
// only then makes it the live config: on any error both stay as they were.
func (r *Repo) SaveConfig(ctx context.Context, kf *keyfile.File) error {
	next := &Repo{path: r.path, config: kf.Clone()}
	if err := next.loadConfig(); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(r.path, "config"), kf.Bytes(), 0o644, r.fsync); err != nil {
		return fmt.Errorf("repo: writing %s/config: %w", r.path, err)
	}
	r.config = next.config
	return r.loadConfig()
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

func isNotExist(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOTDIR)
}
