package bsdiff

import (
	"encoding/binary"
	"fmt"
	"index/suffixarray"
	"math"
)

// suffixArray returns bsdiff's index of old: the start offsets of all
// len(old)+1 suffixes, the empty one included (first), in sorted order.
//
// The sorting is the standard library's SA-IS (index/suffixarray.New).
// That package does not hand out its array, but Index.Write serialises it
// in a documented, stable form (the one Index.Read reads back), which
// saWriter decodes as it streams by, so no second copy is made.
func suffixArray(old []byte) ([]int32, error) {
	if len(old) >= math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d bytes of old data (bsdiff takes less than 2 GiB)", ErrTooLarge, len(old))
	}
	sa := make([]int32, len(old)+1)
	sa[0] = int32(len(old))
	w := &saWriter{dataLeft: -1, out: sa[1:]}
	if err := suffixarray.New(old).Write(w); err != nil {
		return nil, err
	}
	if len(w.out) != 0 || w.err != nil {
		return nil, fmt.Errorf("bsdiff: decoding the suffix array: %v (%d entries missing)", w.err, len(w.out))
	}
	return sa, nil
}

// saWriter decodes the stream Index.Write produces:
//
//	varint(len(data)) padded to 10 bytes, data,
//	then chunks: varint(chunk length incl. this 10-byte field), uvarints.
type saWriter struct {
	hdr      [binary.MaxVarintLen64]byte
	nhdr     int
	dataLeft int64 // -1 while the length header is being read
	chunk    int64 // bytes of uvarints left in the current chunk; 0 between chunks
	pend     []byte
	out      []int32
	err      error
}

func (w *saWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && w.err == nil {
		switch {
		case w.dataLeft < 0 || (w.dataLeft == 0 && w.chunk == 0):
			// A 10-byte varint header: the data length, then each chunk's length.
			k := copy(w.hdr[w.nhdr:], p)
			w.nhdr += k
			p = p[k:]
			if w.nhdr < len(w.hdr) {
				continue
			}
			w.nhdr = 0
			v, m := binary.Varint(w.hdr[:])
			if m <= 0 || v < 0 {
				w.err = fmt.Errorf("bad header")
				break
			}
			if w.dataLeft < 0 {
				w.dataLeft = v
			} else {
				w.chunk = v - int64(len(w.hdr))
				if w.chunk <= 0 {
					w.err = fmt.Errorf("bad chunk length %d", v)
				}
			}
		case w.dataLeft > 0:
			k := min(int64(len(p)), w.dataLeft)
			w.dataLeft -= k
			p = p[k:]
		default:
			k := min(int64(len(p)), w.chunk)
			w.chunk -= k
			buf := p[:k]
			p = p[k:]
			if len(w.pend) > 0 {
				// A uvarint split across writes.
				w.pend = append(w.pend, buf...)
				buf = w.pend
			}
			for len(buf) > 0 {
				v, m := binary.Uvarint(buf)
				if m == 0 {
					break
				}
				if m < 0 || len(w.out) == 0 {
					w.err = fmt.Errorf("bad entry")
					break
				}
				w.out[0] = int32(v)
				w.out = w.out[1:]
				buf = buf[m:]
			}
			w.pend = append(w.pend[:0], buf...)
		}
	}
	return n, nil
}
