package apply

import (
	"context"
	"fmt"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/oid"
)

// FileReader reads a repository's files by relative path, at most max
// bytes (a pull source's Files capability).
type FileReader interface {
	ReadFile(ctx context.Context, path string, max int64) ([]byte, error)
}

// maxSuperblock bounds a superblock fetched from a remote (inline deltas
// carry their parts).
const maxSuperblock = 1 << 30

// Remote is a delta of a remote repository, read through its files.
type Remote struct {
	Files FileReader
	Name  delta.Name
}

// Superblock fetches deltas/…/superblock.
func (s *Remote) Superblock(ctx context.Context) ([]byte, error) {
	return s.Files.ReadFile(ctx, s.Name.SuperblockPath(), maxSuperblock)
}

// Part fetches deltas/…/I, no more than the header's size.
func (s *Remote) Part(ctx context.Context, i int, h delta.PartHeader) ([]byte, error) {
	b, err := s.Files.ReadFile(ctx, s.Name.PartPath(i), int64(h.Size))
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) != h.Size {
		return nil, fmt.Errorf("%w: part %d is %d bytes, the superblock says %d", delta.ErrCorrupt, i, len(b), h.Size)
	}
	return b, nil
}

// Choice is the delta a pull uses and the digest its superblock must have
// (zero when the remote listed none).
type Choice struct {
	Name   delta.Name
	Digest *oid.Checksum
}

// Select picks a delta to reach to, as ostree's pull does
// (ostree-format.md §5.4): among the listed deltas ending at to, the one
// from the client's current commit for the ref (from, zero if none) when
// the client has it complete; a from-scratch delta only when the client
// has no commit for the ref. ok is false when none fits.
func Select(listed []delta.IndexEntry, from, to oid.Checksum, haveFrom bool) (c Choice, ok bool) {
	for _, e := range listed {
		if e.Name.To != to {
			continue
		}
		d := e.Digest
		if !from.IsZero() && haveFrom && e.Name.From == from {
			return Choice{Name: e.Name, Digest: &d}, true
		}
		if from.IsZero() && e.Name.Scratch() {
			c, ok = Choice{Name: e.Name, Digest: &d}, true
		}
	}
	return c, ok
}
