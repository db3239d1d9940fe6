package delta

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Content is a content object's payload open for reading at any offset.
type Content struct {
	io.ReaderAt
	Header *object.FileHeader
	Size   int64
	c      io.Closer
}

// Close releases the object.
func (c *Content) Close() error { return c.c.Close() }

// OpenContent opens a regular content object of r for random access:
// the object file itself in bare modes; in archive mode the payload is
// inflated once into an unlinked temporary file under the repository's
// tmp/ (no memory held for it).
func OpenContent(ctx context.Context, r *repo.Repo, sum oid.Checksum) (*Content, error) {
	c, err := r.OpenContent(ctx, sum)
	if err != nil {
		return nil, err
	}
	if c.Header.Mode&object.ModeType != object.ModeReg {
		c.Close()
		return nil, fmt.Errorf("%s is not a regular file", sum)
	}
	if ra, ok := c.ReadCloser.(io.ReaderAt); ok {
		return &Content{ReaderAt: ra, Header: c.Header, Size: c.Size, c: c}, nil
	}
	defer c.Close()
	f, err := os.CreateTemp(r.TmpDir(), "delta-content-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	if _, err := io.CopyN(f, c, c.Size); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", sum, err)
	}
	return &Content{ReaderAt: f, Header: c.Header, Size: c.Size, c: f}, nil
}
