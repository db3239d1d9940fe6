package pull

import (
	"context"
	"io"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Source is where Pull reads a commit graph from: a local repository
// (NewLocalSource), an HTTP(S) remote (core/remote), a static delta.
// Nothing a Source returns is trusted: Pull verifies every object it
// stores (unless Options.Trusted vouches for content checksums).
type Source interface {
	// Name names the source in errors: a remote's name or a path.
	Name() string
	// ReadMeta returns the bytes of a metadata object (commit, dirtree,
	// dirmeta, commitmeta). A missing object is an error wrapping
	// ErrNotFound.
	ReadMeta(ctx context.Context, name oid.ObjectName) ([]byte, error)
	// ReadContent opens the content object sum and calls fn with it. A
	// source that retries a transfer which failed part-way calls fn again
	// from the start, so fn must be safe to repeat.
	ReadContent(ctx context.Context, sum oid.Checksum, fn func(*Content) error) error
	// Refs lists the source's branches (refs/heads, or a summary's refs).
	Refs(ctx context.Context) (map[string]oid.Checksum, error)
	// ResolveRef returns the commit a branch of the source points at; an
	// unknown ref is an error wrapping ErrNotFound.
	ResolveRef(ctx context.Context, ref string) (oid.Checksum, error)
}

// Content is an open content object.
type Content struct {
	Header *object.FileHeader
	Size   int64     // payload bytes; 0 for symlinks
	Reader io.Reader // exactly Size bytes of payload
}

// Optional capabilities, found by type assertion. Each is a fast path:
// Pull works without them.

// Adopter is a source whose stored objects a transaction can take over as
// they are (hard link or copy of the loose file): a local repository of
// the destination's mode. Pull uses it for trusted pulls only.
type Adopter interface {
	// Adopt stages name in tx from the source's own file; false when it
	// cannot (different filesystem and a bare mode, different mode), and
	// Pull then imports the object by content.
	Adopt(ctx context.Context, tx *repo.Txn, name oid.ObjectName) (bool, error)
}

// RawArchiver is a source that can hand over a content object's archive
// (.filez) bytes: an archive destination stores them as they are after
// checking them, with no inflating and deflating again.
type RawArchiver interface {
	// ReadRawArchive calls fn with the object's .filez bytes; like
	// ReadContent it may call fn again after a failed transfer.
	ReadRawArchive(ctx context.Context, sum oid.Checksum, fn func(io.Reader) error) error
}

// SizeHinter is a source that knows (roughly) how large its objects are,
// so that large content starts first instead of being the tail of a pull.
type SizeHinter interface {
	SizeHint(name oid.ObjectName) int64
}

// Concurrent is a source that says how many metadata and content
// requests should be in flight at once (a network source wants more than
// a local disk, which Pull otherwise assumes).
type Concurrent interface {
	Concurrency() (meta, content int)
}

// Files is a source that serves other files of a repository by relative
// path (summary, deltas/…, delta-indexes/…): what static deltas are read
// through. A missing file is an error wrapping ErrNotFound.
type Files interface {
	ReadFile(ctx context.Context, path string, max int64) ([]byte, error)
}

// NotFound marks err as a missing object or ref (errors.Is(…, ErrNotFound))
// without changing its message; sources wrap their own "not found"
// errors with it.
func NotFound(err error) error {
	if err == nil {
		return nil
	}
	return notFoundError{err}
}

type notFoundError struct{ err error }

func (e notFoundError) Error() string   { return e.err.Error() }
func (e notFoundError) Unwrap() []error { return []error{ErrNotFound, e.err} }
