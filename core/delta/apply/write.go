package apply

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/groveos/grove/core/bsdiff"
	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// writeStep produces one object into tx, verified: metadata by checksum
// and structure, content by the transaction re-hashing the stream.
func writeStep(ctx context.Context, tx *repo.Txn, pl *delta.Payload, st *delta.Step, srcs *sources) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ok, err := tx.Has(ctx, st.Object); err != nil || ok {
		return err
	}
	if st.Object.Type.IsMeta() {
		seg := st.Segments[0]
		data := pl.Blob[seg.Off : seg.Off+seg.Size]
		if got := oid.Sum(data); got != st.Object.Checksum {
			return &object.CorruptError{Name: st.Object, Actual: got}
		}
		if err := validateMeta(st.Object.Type, data); err != nil {
			return err
		}
		_, err := tx.WriteMeta(ctx, st.Object.Type, data)
		return err
	}
	m := pl.Modes[st.Mode]
	hdr := &object.FileHeader{UID: m.UID, GID: m.GID, Mode: m.Mode, Xattrs: pl.Xattrs[st.Xattrs]}
	if st.Size > math.MaxInt64 {
		return fmt.Errorf("%w: size %d", delta.ErrTooLarge, st.Size)
	}
	if hdr.IsSymlink() {
		if len(st.Segments) != 1 || st.Segments[0].Kind != delta.FromBlob {
			return fmt.Errorf("%w: symlink target not spliced from the blob", delta.ErrCorrupt)
		}
		seg := st.Segments[0]
		hdr.SymlinkTarget = string(pl.Blob[seg.Off : seg.Off+seg.Size])
		return tx.WriteContentAs(ctx, st.Object.Checksum, hdr, nil, 0)
	}
	if hdr.Mode&object.ModeType != object.ModeReg {
		return fmt.Errorf("%w: mode %#o is neither a regular file nor a symlink", delta.ErrCorrupt, hdr.Mode)
	}
	// One segment from the blob: no stream plumbing.
	if len(st.Segments) == 1 && st.Segments[0].Kind == delta.FromBlob {
		seg := st.Segments[0]
		return tx.WriteContentAs(ctx, st.Object.Checksum, hdr, bytes.NewReader(pl.Blob[seg.Off:seg.Off+seg.Size]), int64(st.Size))
	}
	var readers []io.Reader
	var patches []func(io.Writer) error
	for _, seg := range st.Segments {
		switch seg.Kind {
		case delta.FromBlob:
			readers = append(readers, bytes.NewReader(pl.Blob[seg.Off:seg.Off+seg.Size]))
		case delta.FromSource:
			s, err := srcs.open(ctx, seg.Source)
			if err != nil {
				return err
			}
			if seg.Off > uint64(s.Size) || seg.Size > uint64(s.Size)-seg.Off {
				return fmt.Errorf("%w: Unexpected EOF reading object %s (range %d+%d of %d bytes)", delta.ErrCorrupt, seg.Source, seg.Off, seg.Size, s.Size)
			}
			readers = append(readers, io.NewSectionReader(s, int64(seg.Off), int64(seg.Size)))
		case delta.Patch:
			s, err := srcs.open(ctx, seg.Source)
			if err != nil {
				return err
			}
			patch := pl.Blob[seg.Off : seg.Off+seg.Size]
			pr, pw := io.Pipe()
			readers = append(readers, pr)
			patches = append(patches, func(io.Writer) error {
				err := bsdiff.Patch(s, s.Size, patch, int64(st.Size), pw)
				pw.CloseWithError(err)
				return err
			})
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(patches))
	for i, p := range patches {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = p(nil) }()
	}
	err := tx.WriteContentAs(ctx, st.Object.Checksum, hdr, io.MultiReader(readers...), int64(st.Size))
	for _, r := range readers {
		if pr, ok := r.(*io.PipeReader); ok {
			pr.Close() // unblock a patch the writer stopped reading
		}
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil && e != io.ErrClosedPipe {
			return fmt.Errorf("bspatch: %w", e)
		}
	}
	return err
}

// validateMeta checks that a metadata object has its type's structure
// (its checksum was checked already; normal form is part of decoding).
func validateMeta(t oid.ObjectType, data []byte) error {
	var err error
	switch t {
	case oid.DirTree:
		var dt *object.DirTree
		if dt, err = object.UnmarshalDirTree(data); err == nil {
			err = dt.Validate()
		}
	case oid.DirMeta:
		_, err = object.UnmarshalDirMeta(data)
	case oid.Commit:
		_, err = object.UnmarshalCommit(data)
	case oid.CommitMeta:
		_, err = object.UnmarshalMeta(data)
	default:
		err = fmt.Errorf("%w: a delta cannot carry %s objects", delta.ErrCorrupt, t)
	}
	return err
}

// sources opens each read source of a part once.
type sources struct {
	r  *repo.Repo
	mu sync.Mutex
	m  map[oid.Checksum]*sourceOnce
}

type sourceOnce struct {
	once sync.Once
	s    *delta.Content
	err  error
}

func newSources(r *repo.Repo) *sources {
	return &sources{r: r, m: map[oid.Checksum]*sourceOnce{}}
}

func (s *sources) open(ctx context.Context, sum oid.Checksum) (*delta.Content, error) {
	s.mu.Lock()
	o := s.m[sum]
	if o == nil {
		o = &sourceOnce{}
		s.m[sum] = o
	}
	s.mu.Unlock()
	o.once.Do(func() { o.s, o.err = openSource(ctx, s.r, sum) })
	return o.s, o.err
}

func (s *sources) close() {
	for _, o := range s.m {
		if o.s != nil {
			o.s.Close()
		}
	}
}

// openSource opens a read source. One that is not a world-readable
// regular file is refused: ostree's generator never uses one (a client
// reading through a parent repository might not be able to).
func openSource(ctx context.Context, r *repo.Repo, sum oid.Checksum) (*delta.Content, error) {
	c, err := delta.OpenContent(ctx, r, sum)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrReadSource, sum, err)
	}
	if c.Header.Mode&0o004 == 0 {
		c.Close()
		return nil, fmt.Errorf("%w %s: not world-readable (mode %#o)", ErrReadSource, sum, c.Header.Mode&object.ModePerms)
	}
	return c, nil
}
