package bsdiff

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// Errors returned by Patch.
var (
	ErrCorrupt  = errors.New("bsdiff: corrupt patch")
	ErrTooLarge = errors.New("bsdiff: input too large")
)

const ctrlSize = 24

// chunk is how much old data Patch reads at a time.
const chunk = 64 << 10

// offtin reads a sign-magnitude little-endian integer.
func offtin(b []byte) int64 {
	y := int64(b[7] & 0x7f)
	for i := 6; i >= 0; i-- {
		y = y<<8 | int64(b[i])
	}
	if b[7]&0x80 != 0 {
		y = -y
	}
	return y
}

// offtout writes x in sign-magnitude little-endian form.
func offtout(x int64, b []byte) {
	y := x
	if x < 0 {
		y = -x
	}
	for i := 0; i < 8; i++ {
		b[i] = byte(y)
		y >>= 8
	}
	if x < 0 {
		b[7] |= 0x80
	}
}

// Patch applies patch to the oldSize bytes of old and writes exactly
// newSize bytes to w. It fails with ErrCorrupt when the patch ends early,
// claims a negative or oversized run, or would write past newSize; what it
// wrote before failing must then be discarded by the caller.
func Patch(old io.ReaderAt, oldSize int64, patch []byte, newSize int64, w io.Writer) error {
	if oldSize < 0 || newSize < 0 {
		return fmt.Errorf("%w: negative size", ErrCorrupt)
	}
	var (
		oldpos, newpos int64
		buf            []byte // allocated on the first diff run
		oldbuf         []byte
	)
	p := patch
	for newpos < newSize {
		if len(p) < ctrlSize {
			return fmt.Errorf("%w: patch ends at new offset %d of %d", ErrCorrupt, newpos, newSize)
		}
		c0, c1, c2 := offtin(p[0:8]), offtin(p[8:16]), offtin(p[16:24])
		p = p[ctrlSize:]
		if c0 < 0 || c0 > math.MaxInt32 || c1 < 0 || c1 > math.MaxInt32 {
			return fmt.Errorf("%w: bad control (%d, %d, %d) at new offset %d", ErrCorrupt, c0, c1, c2, newpos)
		}
		if c0 > newSize-newpos {
			return fmt.Errorf("%w: diff run of %d bytes at new offset %d passes the new size %d", ErrCorrupt, c0, newpos, newSize)
		}
		if oldpos > math.MaxInt64-c0 {
			return fmt.Errorf("%w: old position overflows", ErrCorrupt)
		}
		if int64(len(p)) < c0 {
			return fmt.Errorf("%w: diff run of %d bytes but %d left in the patch", ErrCorrupt, c0, len(p))
		}
		// Diff run: patch bytes plus old bytes, in chunks.
		for left := c0; left > 0; {
			n := min(left, chunk)
			if buf == nil {
				buf = make([]byte, chunk)
				oldbuf = make([]byte, chunk)
			}
			out := buf[:n]
			copy(out, p[:n])
			p = p[n:]
			// The part of [oldpos, oldpos+n) inside the old file.
			lo, hi := max(oldpos, 0), min(oldpos+n, oldSize)
			if lo < hi {
				ob := oldbuf[:hi-lo]
				if k, err := old.ReadAt(ob, lo); k < len(ob) {
					if err == nil || err == io.EOF {
						err = io.ErrUnexpectedEOF
					}
					return fmt.Errorf("bsdiff: reading old data at %d: %w", lo, err)
				}
				d := out[lo-oldpos:]
				for i, b := range ob {
					d[i] += b
				}
			}
			if _, err := w.Write(out); err != nil {
				return err
			}
			oldpos += n
			newpos += n
			left -= n
		}
		if c1 > newSize-newpos {
			return fmt.Errorf("%w: extra run of %d bytes at new offset %d passes the new size %d", ErrCorrupt, c1, newpos, newSize)
		}
		if int64(len(p)) < c1 {
			return fmt.Errorf("%w: extra run of %d bytes but %d left in the patch", ErrCorrupt, c1, len(p))
		}
		if c1 > 0 {
			if _, err := w.Write(p[:c1]); err != nil {
				return err
			}
			p = p[c1:]
			newpos += c1
		}
		// Keep oldpos within int64 whatever the patch says; positions
		// outside the old file only mean "add nothing".
		if (c2 > 0 && oldpos > math.MaxInt64-c2) || (c2 < 0 && oldpos < math.MinInt64-c2) {
			return fmt.Errorf("%w: old position overflows", ErrCorrupt)
		}
		oldpos += c2
	}
	return nil
}
