package generate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sync"

	"github.com/groveos/grove/core/bsdiff"
	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

type fragKind int

const (
	kPlain fragKind = iota
	kRollsum
	kBsdiff
)

// modified is the outcome for a paired file.
type modified struct {
	kind     fragKind
	from     oid.Checksum
	rs       *rollsumResult
	patchOff int64 // in the spool
	patchLen int64
}

// spool holds bsdiff patches on disk until their part is written.
type spool struct {
	mu  sync.Mutex
	f   *os.File
	end int64
}

func newSpool(r *repo.Repo) (*spool, error) {
	f, err := os.CreateTemp(r.TmpDir(), "delta-spool-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return &spool{f: f}, nil
}

func (s *spool) add(b []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	off := s.end
	if _, err := s.f.WriteAt(b, off); err != nil {
		return 0, err
	}
	s.end += int64(len(b))
	return off, nil
}

// readAll loads a content object's payload.
func readAll(ctx context.Context, r *repo.Repo, sum oid.Checksum) ([]byte, error) {
	c, err := r.OpenContent(ctx, sum)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	b := make([]byte, c.Size)
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, fmt.Errorf("%s: %w", sum, err)
	}
	return b, nil
}

// nonZero counts the bytes of a patch that carry information: bsdiff's
// diff runs are mostly zeros, which compress to nearly nothing.
func nonZero(b []byte) int64 {
	n := int64(0)
	for _, c := range b {
		if c != 0 {
			n++
		}
	}
	return n
}

// bsdiffWeight is the memory a bsdiff of these sizes takes: both files,
// the suffix array of the old one and the patch.
func bsdiffWeight(oldSize, newSize int64) int64 { return 5*oldSize + 2*newSize + 1<<20 }

// diffFile decides how to ship a modified file: rollsum when at least
// half of its chunks are in the old file (ostree's rule), bsdiff when
// allowed and smaller (also tried when the rollsum leaves more than a
// few KiB to ship), else plain.
func diffFile(ctx context.Context, r *repo.Repo, opts *Options, sp *spool, to, from *fileInfo) (*modified, error) {
	useBsdiff := !opts.DisableBsdiff && to.size+from.size <= opts.MaxBsdiffSize && from.size < math.MaxInt32
	var oldR, newR io.ReaderAt
	var oldB, newB []byte
	if useBsdiff {
		var err error
		if oldB, err = readAll(ctx, r, from.sum); err != nil {
			return nil, err
		}
		if newB, err = readAll(ctx, r, to.sum); err != nil {
			return nil, err
		}
		oldR, newR = bytes.NewReader(oldB), bytes.NewReader(newB)
	} else {
		o, err := delta.OpenContent(ctx, r, from.sum)
		if err != nil {
			return nil, err
		}
		defer o.Close()
		n, err := delta.OpenContent(ctx, r, to.sum)
		if err != nil {
			return nil, err
		}
		defer n.Close()
		oldR, newR = o, n
	}
	rs, err := rollsum(oldR, newR, from.size, to.size)
	if err != nil {
		return nil, err
	}
	useRollsum := rs.ratio() >= 50
	literal := to.size - rs.matched
	rsCost := literal + 16*int64(len(rs.matches))
	if useBsdiff && (!useRollsum || literal > 4096) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		patch, err := bsdiff.DiffBytes(oldB, newB)
		if err != nil {
			return nil, err
		}
		cost := nonZero(patch)
		if (!useRollsum || cost < rsCost) && cost < to.size {
			off, err := sp.add(patch)
			if err != nil {
				return nil, err
			}
			return &modified{kind: kBsdiff, from: from.sum, patchOff: off, patchLen: int64(len(patch))}, nil
		}
	}
	if useRollsum {
		return &modified{kind: kRollsum, from: from.sum, rs: rs}, nil
	}
	return &modified{kind: kPlain}, nil
}
