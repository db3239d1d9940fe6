package pull

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
)

// LocalOptions configure Local.
type LocalOptions struct {
	// Refs to pull (refs or commit checksums); empty pulls every local ref of src.
	Refs []string
	// Depth is how many parents to follow; -1 follows all.
	Depth int
	// Untrusted re-verifies every content checksum. Metadata is always verified.
	Untrusted bool
	// CommitMetadataOnly copies commit objects only, marking them partial.
	CommitMetadataOnly bool
	// Remote, when set, writes refs/remotes/REMOTE/REF instead of refs/heads/REF.
	Remote string
	// DisableVerifyBindings skips the ostree.ref-binding check.
	DisableVerifyBindings bool
	// Progress receives events as objects are copied.
	Progress progress.Func
}

// Local pulls from the repository src into dst (ostree pull-local): Pull
// with a LocalSource, trusted unless opts.Untrusted.
func Local(ctx context.Context, dst, src *repo.Repo, opts LocalOptions) (*Result, error) {
	return Pull(ctx, dst, NewLocalSource(src), Options{
		Refs: opts.Refs, Depth: opts.Depth, Trusted: !opts.Untrusted,
		CommitMetadataOnly: opts.CommitMetadataOnly, Remote: opts.Remote,
		DisableVerifyBindings: opts.DisableVerifyBindings, Progress: opts.Progress,
	})
}

// LocalSource reads from a repository on this machine (pull-local, and
// pull from file:// remotes). Besides Source it offers the fast paths of
// a local disk: adopting loose files into a destination of the same mode,
// size hints from the loose files, and for archive repositories the raw
// .filez bytes.
type LocalSource struct {
	r    *repo.Repo
	name string
}

// archiveSource is a LocalSource over an archive repository.
type archiveSource struct{ *LocalSource }

// NewLocalSource returns a Source reading from r.
func NewLocalSource(r *repo.Repo) Source { return NewNamedLocalSource(r, r.Path()) }

// NewNamedLocalSource is NewLocalSource for a repository that stands for a
// remote (a file:// URL): errors name the remote.
func NewNamedLocalSource(r *repo.Repo, name string) Source {
	s := &LocalSource{r: r, name: name}
	if r.Mode() == repo.ModeArchive {
		return archiveSource{s}
	}
	return s
}

var (
	_ Adopter     = (*LocalSource)(nil)
	_ SizeHinter  = (*LocalSource)(nil)
	_ RawArchiver = archiveSource{}
)

// Name is the repository's path, or the remote it stands for.
func (s *LocalSource) Name() string { return s.name }

func notFound(err error) error {
	if errors.Is(err, repo.ErrNotFound) || errors.Is(err, repo.ErrRefNotFound) {
		return NotFound(err)
	}
	return err
}

// ReadMeta reads a metadata object's file.
func (s *LocalSource) ReadMeta(ctx context.Context, name oid.ObjectName) ([]byte, error) {
	b, err := s.r.ReadMeta(ctx, name.Type, name.Checksum)
	return b, notFound(err)
}

// ReadContent opens a content object.
func (s *LocalSource) ReadContent(ctx context.Context, sum oid.Checksum, fn func(*Content) error) error {
	c, err := s.r.OpenContent(ctx, sum)
	if err != nil {
		return notFound(err)
	}
	defer c.Close()
	return fn(&Content{Header: c.Header, Size: c.Size, Reader: c})
}

// Refs lists refs/heads (remote and mirror refs stay behind).
func (s *LocalSource) Refs(ctx context.Context) (map[string]oid.Checksum, error) {
	all, err := s.r.ListRefs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]oid.Checksum{}
	for _, r := range all {
		if r.Remote == "" && !r.Mirror {
			out[r.Name] = r.Checksum
		}
	}
	return out, nil
}

// ResolveRef reads refs/heads/REF.
func (s *LocalSource) ResolveRef(ctx context.Context, ref string) (oid.Checksum, error) {
	sum, err := s.r.ReadRef(ctx, "", ref)
	if err != nil {
		return sum, fmt.Errorf("pull: %s in %s: %w", ref, s.name, notFound(err))
	}
	return sum, nil
}

// Adopt links (or, between archive repositories, copies) the loose file.
func (s *LocalSource) Adopt(ctx context.Context, tx *repo.Txn, name oid.ObjectName) (bool, error) {
	return tx.AdoptFrom(ctx, s.r, name)
}

// SizeHint is the size of the loose file (compressed for archive
// repositories, which orders as well); 0 when unknown.
func (s *LocalSource) SizeHint(name oid.ObjectName) int64 {
	size, err := s.r.StoredSize(context.Background(), name)
	if err != nil {
		return 0
	}
	return size
}

// ReadRawArchive hands over the .filez file.
func (s archiveSource) ReadRawArchive(ctx context.Context, sum oid.Checksum, fn func(io.Reader) error) error {
	f, err := s.r.OpenRawArchive(ctx, sum)
	if err != nil {
		return notFound(err)
	}
	defer f.Close()
	return fn(f)
}
