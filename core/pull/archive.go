package pull

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/klauspost/compress/flate"
)

// errTrailing: bytes after the end of an archive object's DEFLATE data.
var errTrailing = errors.New("data after the end of the compressed payload")

// inflaters are reusable .filez readers: a fresh DEFLATE reader costs tens
// of KiB, and a pull opens one per object.
var inflaters = sync.Pool{New: func() any {
	return &inflater{br: bufio.NewReaderSize(nil, 32<<10)}
}}

type inflater struct {
	br   *bufio.Reader
	src  flate.Reader // br, or the caller's *bytes.Reader
	zr   io.ReadCloser
	left int64 // payload bytes still to come
}

// OpenArchive decodes an archive (.filez) stream, for sources that serve
// objects in that form: it reads the header from r and returns the content
// with a payload reader that yields exactly the declared size, then checks
// that the DEFLATE stream ends there and that nothing follows it (an error
// wrapping object.ErrMalformed otherwise). release returns the reader to a
// pool once the caller is done with the content.
//
// An object already in memory is best passed as a *bytes.Reader: it is
// inflated from there directly, which is faster than through a buffer.
func OpenArchive(r io.Reader) (c *Content, release func(), err error) {
	z := inflaters.Get().(*inflater)
	if b, ok := r.(*bytes.Reader); ok {
		z.src = b
	} else {
		z.br.Reset(r)
		z.src = z.br
	}
	release = func() {
		z.br.Reset(nil)
		z.src = nil
		inflaters.Put(z)
	}
	hdr, size, err := object.ReadArchiveHeader(z.src)
	if err != nil {
		release()
		return nil, nil, err
	}
	if size > math.MaxInt64 {
		release()
		return nil, nil, fmt.Errorf("%w: archive header declares %d bytes", object.ErrMalformed, size)
	}
	c = &Content{Header: hdr}
	if hdr.IsSymlink() {
		c.Reader = &endCheck{src: z.src}
		return c, release, nil
	}
	if z.zr == nil {
		z.zr = flate.NewReader(z.src)
	} else if err := z.zr.(flate.Resetter).Reset(z.src, nil); err != nil {
		release()
		return nil, nil, err
	}
	z.left = int64(size)
	c.Size = int64(size)
	c.Reader = z
	return c, release, nil
}

// Read yields the payload; after the last byte it makes sure the
// compressed stream ends there (one byte more must be EOF) and that no
// bytes follow it.
func (z *inflater) Read(p []byte) (int, error) {
	if z.left == 0 {
		var one [1]byte
		n, err := io.ReadFull(z.zr, one[:])
		switch {
		case n > 0:
			return 0, fmt.Errorf("%w: payload longer than its declared size", object.ErrMalformed)
		case err != io.EOF:
			return 0, fmt.Errorf("%w: compressed payload: %w", object.ErrMalformed, err)
		}
		return (&endCheck{src: z.src}).Read(p)
	}
	if int64(len(p)) > z.left {
		p = p[:z.left]
	}
	n, err := z.zr.Read(p)
	z.left -= int64(n)
	if err == io.EOF {
		if z.left > 0 {
			return n, fmt.Errorf("%w: payload %d bytes shorter than its declared size", object.ErrMalformed, z.left)
		}
		err = nil
	} else if err != nil {
		err = fmt.Errorf("%w: compressed payload: %w", object.ErrMalformed, err)
	}
	return n, err
}

// endCheck reads as empty if its reader is at its end, and fails if not.
type endCheck struct{ src io.ByteReader }

func (e *endCheck) Read([]byte) (int, error) {
	if _, err := e.src.ReadByte(); err != io.EOF {
		if err == nil {
			err = errTrailing
		}
		return 0, fmt.Errorf("%w: %w", object.ErrMalformed, err)
	}
	return 0, io.EOF
}

// copyArchive copies a .filez object from r to w and returns the bytes
// copied. With verify it inflates the stream on the way and checks it:
// the content must hash to sum, the payload have exactly the size its
// header declares, and nothing follow the compressed data.
func copyArchive(w io.Writer, r io.Reader, sum oid.Checksum, verify bool) (int64, error) {
	cw := &fsutil.CountingWriter{W: w}
	if !verify {
		_, err := io.Copy(cw, r)
		return cw.N, err
	}
	src := io.TeeReader(r, cw)
	if b, ok := r.(*bytes.Reader); ok {
		// In memory already: write it out, then check it from memory.
		if _, err := b.WriteTo(cw); err != nil {
			return cw.N, err
		}
		b.Seek(0, io.SeekStart)
		src = b
	}
	c, release, err := OpenArchive(src)
	if err != nil {
		return cw.N, err
	}
	defer release()
	h := sha256.New()
	h.Write(c.Header.StreamPrefix())
	if _, err := io.Copy(h, c.Reader); err != nil {
		return cw.N, err
	}
	var got oid.Checksum
	h.Sum(got[:0])
	if got != sum {
		return cw.N, &object.CorruptError{Name: oid.ObjectName{Checksum: sum, Type: oid.File}, Actual: got}
	}
	return cw.N, nil
}
