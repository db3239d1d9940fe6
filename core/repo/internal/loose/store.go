// Package loose is the loose object store of a repository: the layout
// objects/XX/REST.ext in every mode, how each mode keeps a file's
// metadata (bare-user's user.ostreemeta, archive's .filez header), and
// the readers over it: the general ones, the fast ones (raw descriptors,
// pooled inflaters), ObjectDir handles and BulkReader for bulk work, and
// the parallel getdents listings. It is internal to core/repo, which
// embeds a *Store in every Repo; no other package may know the layout.
package loose

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Errors returned by this package (core/repo re-exports them).
var (
	ErrNotFound = errors.New("repo: object not found")
	ErrReadOnly = errors.New("repo: operation not possible in this mode")
	ErrMode     = errors.New("repo: invalid mode")
)

// Store is a repository's loose object store.
type Store struct {
	path     string
	mode     Mode
	noXattrs bool
	fsync    bool
	// uncompressedCache is core.enable-uncompressed-cache.
	uncompressedCache bool
	parent            *Store
}

// Settings are the parts of a repository's config the store follows.
type Settings struct {
	Mode              Mode
	DisableXattrs     bool // core.disable-xattrs
	Fsync             bool // core.fsync
	UncompressedCache bool // core.enable-uncompressed-cache
}

// New returns the store of the repository at path; parent, when not nil,
// is searched for objects this one lacks (core.parent).
func New(path string, set Settings, parent *Store) *Store {
	s := &Store{path: path, parent: parent}
	s.Configure(set)
	return s
}

// Configure applies new settings (after a config change).
func (s *Store) Configure(set Settings) {
	s.mode, s.noXattrs, s.fsync, s.uncompressedCache = set.Mode, set.DisableXattrs, set.Fsync, set.UncompressedCache
}

// Mode is how content objects are stored.
func (s *Store) Mode() Mode { return s.mode }

// DisableXattrs reports core.disable-xattrs.
func (s *Store) DisableXattrs() bool { return s.noXattrs }

// Fsync reports whether writes are synced (core.fsync).
func (s *Store) Fsync() bool { return s.fsync }

// SetDisableFsync turns syncing off for this handle only, for `commit
// --fsync=false` / `--disable-fsync` (ostree_repo_set_disable_fsync).
func (s *Store) SetDisableFsync(disable bool) {
	if disable {
		s.fsync = false
	}
}

// IsNotExist reports a missing file (or a file where a directory was
// expected).
func IsNotExist(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOTDIR)
}
