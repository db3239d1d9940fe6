package trial

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/diff"
	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"golang.org/x/sys/unix"
)

// maxIncremental is the number of differences past which a fresh
// checkout is cheaper than applying them one by one.
const maxIncremental = 4096

// CheckoutStats say how a candidate's tree was made.
type CheckoutStats struct {
	// Incremental is true when the previous tree was updated in place.
	Incremental bool
	// Changed counts the paths added, removed or modified (incremental).
	Changed int
	// Files counts the files checked out (fresh).
	Files int64
}

// scratch is the checked-out tree of one commit under dir.
type scratch struct {
	r        *repo.Repo
	dir      string
	writable bool
	cur      oid.Checksum
	opts     checkout.Options
}

func newScratch(r *repo.Repo, dir string, writable bool) (*scratch, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("trial: %w", err)
	}
	s := &scratch{r: r, dir: dir, writable: writable}
	// User mode unless a bare repository is checked out by root, so that
	// files are hardlinks whenever the repository allows it.
	s.opts = checkout.Options{
		User:                 r.Mode() != repo.ModeBare || os.Getuid() != 0,
		ForceCopy:            writable,
		UseUncompressedCache: true,
	}
	if !writable {
		if b, err := os.ReadFile(s.marker()); err == nil {
			if sum, err := oid.Parse(strings.TrimSpace(string(b))); err == nil {
				if _, err := os.Lstat(s.root()); err == nil {
					s.cur = sum
				}
			}
		}
	}
	return s, nil
}

func (s *scratch) root() string   { return filepath.Join(s.dir, "tree") }
func (s *scratch) marker() string { return filepath.Join(s.dir, "tree.commit") }

// invalidate forgets what the tree holds before it changes.
func (s *scratch) invalidate() error {
	s.cur = oid.Checksum{}
	if err := os.Remove(s.marker()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("trial: %w", err)
	}
	return nil
}

// settle records that the tree holds commit.
func (s *scratch) settle(commit oid.Checksum) error {
	s.cur = commit
	if s.writable {
		return nil
	}
	if err := fsutil.WriteFileAtomic(s.marker(), []byte(commit.String()+"\n"), 0o644, false); err != nil {
		return fmt.Errorf("trial: %w", err)
	}
	return nil
}

// moveTo makes the tree hold commit: unchanged when it already does,
// updated in place from the previous commit when the difference is
// small, checked out afresh otherwise (and always when writable, since
// the command may have changed it).
func (s *scratch) moveTo(ctx context.Context, commit oid.Checksum) (CheckoutStats, error) {
	if s.cur == commit && !s.writable {
		return CheckoutStats{Incremental: true}, nil
	}
	if !s.cur.IsZero() && !s.writable {
		prev := s.cur
		if err := s.invalidate(); err != nil {
			return CheckoutStats{}, err
		}
		st, err := s.update(ctx, prev, commit)
		if err == nil {
			return st, s.settle(commit)
		}
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		// The difference could not be applied (too large, or the tree
		// was tampered with): start afresh.
	}
	if err := s.invalidate(); err != nil {
		return CheckoutStats{}, err
	}
	if err := removeTree(s.root()); err != nil {
		return CheckoutStats{}, fmt.Errorf("trial: removing the previous tree: %w", err)
	}
	var cs checkout.Stats
	opts := s.opts
	opts.Stats = &cs
	if err := checkout.Checkout(ctx, s.r, commit, s.root(), opts); err != nil {
		return CheckoutStats{}, err
	}
	return CheckoutStats{Files: cs.Files}, s.settle(commit)
}

var errTooLarge = errors.New("trial: difference too large to apply")

// update applies the difference between two commits to the tree.
func (s *scratch) update(ctx context.Context, from, to oid.Checksum) (CheckoutStats, error) {
	a, err := diff.Commit(ctx, s.r, from)
	if err != nil {
		return CheckoutStats{}, err
	}
	b, err := diff.Commit(ctx, s.r, to)
	if err != nil {
		return CheckoutStats{}, err
	}
	opts := diff.DefaultOptions()
	opts.NoXattrs = s.opts.User
	res, err := diff.Diff(ctx, a, b, opts)
	if err != nil {
		return CheckoutStats{}, err
	}
	n := len(res.Added) + len(res.Removed) + len(res.Modified)
	st := CheckoutStats{Incremental: true, Changed: n}
	if n > maxIncremental {
		return st, errTooLarge
	}
	root := s.root()
	// Directories whose entries change: made writable for the change
	// (a user-mode checkout keeps 0555 directories 0555), then given
	// back their mode and the constant mtime a checkout gives.
	touched := map[string]os.FileMode{}
	touch := func(p string) error {
		dir := filepath.Dir(root + p)
		if _, ok := touched[dir]; ok {
			return nil
		}
		fi, err := os.Lstat(dir)
		if err != nil {
			return err
		}
		touched[dir] = fi.Mode()
		if fi.Mode().Perm()&0o200 == 0 {
			return os.Chmod(dir, fi.Mode().Perm()|0o200)
		}
		return nil
	}
	restore := func() {
		for dir, mode := range touched {
			if mode.Perm()&0o200 == 0 {
				os.Chmod(dir, mode.Perm()|mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
			}
			ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {}}
			unix.UtimesNanoAt(unix.AT_FDCWD, dir, ts, unix.AT_SYMLINK_NOFOLLOW)
		}
		touched = map[string]os.FileMode{}
	}
	defer restore()
	for _, it := range res.Removed {
		if err := touch(it.Path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // inside a directory removed already
			}
			return st, err
		}
		if err := removeTree(root + it.Path); err != nil {
			return st, err
		}
	}
	var done []string // directories checked out whole in this pass
	under := func(p string) bool {
		for _, d := range done {
			if strings.HasPrefix(p, d+"/") {
				return true
			}
		}
		return false
	}
	put := func(p string, isDir bool) error {
		if under(p) {
			return nil
		}
		if err := touch(p); err != nil {
			return err
		}
		o := s.opts
		o.Subpath = p
		if isDir {
			done = append(done, p)
			return checkout.Checkout(ctx, s.r, to, root+p, o)
		}
		o.Mode = checkout.OverwriteUnion
		return checkout.Checkout(ctx, s.r, to, filepath.Dir(root+p), o)
	}
	var metas []diff.Item // directories whose dirmeta changed: last
	for _, it := range res.Modified {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if it.OldDir && it.NewDir {
			metas = append(metas, it)
			continue
		}
		if err := touch(it.Path); err != nil {
			return st, err
		}
		if err := removeTree(root + it.Path); err != nil {
			return st, err
		}
		if err := put(it.Path, it.NewDir); err != nil {
			return st, err
		}
	}
	for _, it := range res.Added {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if err := put(it.Path, it.NewDir); err != nil {
			return st, err
		}
	}
	restore()
	for _, it := range metas {
		if err := s.setDirMeta(ctx, root+it.Path, it.New); err != nil {
			return st, err
		}
	}
	if err := s.setRootMeta(ctx, from, to); err != nil {
		return st, err
	}
	return st, nil
}

// setRootMeta applies the root directory's dirmeta when it changed (the
// diff compares entries, not the roots themselves).
func (s *scratch) setRootMeta(ctx context.Context, from, to oid.Checksum) error {
	a, err := s.r.LoadCommit(ctx, from)
	if err != nil {
		return err
	}
	b, err := s.r.LoadCommit(ctx, to)
	if err != nil {
		return err
	}
	if a.RootMeta == b.RootMeta {
		return nil
	}
	return s.setDirMeta(ctx, s.root(), b.RootMeta)
}

// setDirMeta gives an existing directory the mode (and, outside user
// mode, owner) of a dirmeta, as a checkout would have.
func (s *scratch) setDirMeta(ctx context.Context, path string, meta oid.Checksum) error {
	m, err := s.r.LoadDirMeta(ctx, meta)
	if err != nil {
		return err
	}
	mode := m.Mode & 0o7777
	if s.r.Mode() == repo.ModeBareUserOnly {
		mode &= 0o775
	}
	if err := unix.Chmod(path, mode); err != nil {
		return fmt.Errorf("trial: chmod %s: %w", path, err)
	}
	if !s.opts.User {
		if err := unix.Lchown(path, int(m.UID), int(m.GID)); err != nil {
			return fmt.Errorf("trial: chown %s: %w", path, err)
		}
	}
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {}}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("trial: utimens %s: %w", path, err)
	}
	return nil
}

// removeTree removes path and everything below it, making directories
// writable first where a user-mode checkout left them read-only.
func removeTree(path string) error {
	err := os.RemoveAll(path)
	if err == nil {
		return nil
	}
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	// The parent may be read-only too.
	if parent := filepath.Dir(path); parent != path {
		if st, err := os.Lstat(parent); err == nil && st.Mode().Perm()&0o200 == 0 {
			os.Chmod(parent, st.Mode().Perm()|0o200)
			defer os.Chmod(parent, st.Mode().Perm())
		}
	}
	return os.RemoveAll(path)
}
