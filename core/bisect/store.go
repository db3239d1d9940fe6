package bisect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/groveos/grove/core/internal/fsutil"
	"golang.org/x/sys/unix"
)

// ErrBusy: another grove process holds the bisect lock.
var ErrBusy = errors.New("bisect: another bisect command is running on this repository")

// Store is where a repository keeps its bisect: state/bisect/ inside it.
type Store struct {
	dir string
}

// StoreAt is the bisect store of the repository at repoPath.
func StoreAt(repoPath string) *Store {
	return &Store{dir: filepath.Join(repoPath, "state", "bisect")}
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Path is the state file.
func (s *Store) Path() string { return filepath.Join(s.dir, "state.json") }

// ScratchDir is where bisect run checks candidates out; it goes with the
// state on Remove.
func (s *Store) ScratchDir() string { return filepath.Join(s.dir, "run") }

// Active reports whether a bisect is in progress.
func (s *Store) Active() bool {
	_, err := os.Lstat(s.Path())
	return err == nil
}

// Load reads the state; ErrNotStarted when there is none, ErrBadState
// (naming the file) when it is not a state file.
func (s *Store) Load() (*State, error) {
	b, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotStarted
	}
	if err != nil {
		return nil, fmt.Errorf("bisect: reading state: %w", err)
	}
	st, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (fix or remove it, or run \"grove bisect reset\")", s.Path(), err)
	}
	return st, nil
}

// Save writes st atomically and durably: temp file, fsync, rename, fsync
// of the directory. A crash leaves the old state or the new one.
func (s *Store) Save(st *State) error {
	b, err := st.Marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("bisect: %w", err)
	}
	if err := fsutil.WriteFileAtomic(s.Path(), b, 0o644, true); err != nil {
		return fmt.Errorf("bisect: saving state: %w", err)
	}
	return nil
}

// Remove ends the bisect: the state file goes first (the point after
// which no bisect is in progress), then the scratch trees and the rest of state/bisect/.
func (s *Store) Remove() error {
	if err := os.Remove(s.Path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("bisect: %w", err)
	}
	if err := fsutil.SyncDir(s.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("bisect: %w", err)
	}
	if err := removeAll(s.dir); err != nil {
		return fmt.Errorf("bisect: removing scratch trees: %w", err)
	}
	return nil
}

// removeAll is os.RemoveAll after making directories writable again (a
// tree checked out in user mode may hold 0555 directories).
func removeAll(dir string) error {
	err := os.RemoveAll(dir)
	if err == nil {
		return nil
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// Lock takes the bisect lock without waiting: a bisect run in progress
// holds it, and a mark from another terminal is refused with ErrBusy
// instead of racing it. Call the returned function to release.
func (s *Store) Lock() (func(), error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("bisect: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, "lock"), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bisect: lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("bisect: lock: %w", err)
	}
	return func() { f.Close() }, nil
}
