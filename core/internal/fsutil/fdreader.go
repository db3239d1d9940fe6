package fsutil

import (
	"io"

	"golang.org/x/sys/unix"
)

// FdReader reads a raw descriptor with read(2), retrying EINTR; it spares
// the hot paths an os.File (an fcntl and a finalizer per object).
type FdReader int

func (f FdReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Read(int(f), p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// CountingWriter passes writes on to W and counts the bytes written in N.
type CountingWriter struct {
	W io.Writer
	N int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
