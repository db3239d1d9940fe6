package bsdiff

import (
	"bytes"
	"io"
)

// Diff writes to w a patch that turns old into new. It holds a suffix
// array of old (4 bytes per byte of old) for the duration of the call.
func Diff(old, new []byte, w io.Writer) error {
	sa, err := suffixArray(old)
	if err != nil {
		return err
	}
	return diff(sa, old, new, w)
}

// DiffBytes is Diff into memory.
func DiffBytes(old, new []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := Diff(old, new, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func matchlen(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// search finds the longest prefix of new that occurs in old, by binary
// search over the suffix array (bsdiff's search()).
func search(sa []int32, old, new []byte) (pos, n int) {
	st, en := 0, len(sa)-1
	for en-st >= 2 {
		x := st + (en-st)/2
		s := old[sa[x]:]
		m := min(len(s), len(new))
		if bytes.Compare(s[:m], new[:m]) < 0 {
			st = x
		} else {
			en = x
		}
	}
	x := matchlen(old[sa[st]:], new)
	y := matchlen(old[sa[en]:], new)
	if x > y {
		return int(sa[st]), x
	}
	return int(sa[en]), y
}

// diff is bsdiff_internal from Endsley's bsdiff 4.3, with the same
// scoring so that patches have the same shape.
func diff(sa []int32, old, new []byte, w io.Writer) error {
	oldsize, newsize := len(old), len(new)
	var (
		scan, pos, n                  int
		lastscan, lastpos, lastoffset int
		ctrl                          [ctrlSize]byte
		buf                           []byte
	)
	for scan < newsize {
		oldscore := 0
		scan += n
		scsc := scan
		for ; scan < newsize; scan++ {
			pos, n = search(sa, old, new[scan:])
			for ; scsc < scan+n; scsc++ {
				if scsc+lastoffset < oldsize && old[scsc+lastoffset] == new[scsc] {
					oldscore++
				}
			}
			if (n == oldscore && n != 0) || n > oldscore+8 {
				break
			}
			if scan+lastoffset < oldsize && old[scan+lastoffset] == new[scan] {
				oldscore--
			}
		}
		if n == oldscore && scan != newsize {
			continue
		}
		// Extend forwards from the last match...
		s, sf, lenf := 0, 0, 0
		for i := 0; lastscan+i < scan && lastpos+i < oldsize; {
			if old[lastpos+i] == new[lastscan+i] {
				s++
			}
			i++
			if s*2-i > sf*2-lenf {
				sf, lenf = s, i
			}
		}
		// ...and backwards from this one.
		lenb := 0
		if scan < newsize {
			s, sb := 0, 0
			for i := 1; scan >= lastscan+i && pos >= i; i++ {
				if old[pos-i] == new[scan-i] {
					s++
				}
				if s*2-i > sb*2-lenb {
					sb, lenb = s, i
				}
			}
		}
		if lastscan+lenf > scan-lenb {
			overlap := (lastscan + lenf) - (scan - lenb)
			s, ss, lens := 0, 0, 0
			for i := 0; i < overlap; i++ {
				if new[lastscan+lenf-overlap+i] == old[lastpos+lenf-overlap+i] {
					s++
				}
				if new[scan-lenb+i] == old[pos-lenb+i] {
					s--
				}
				if s > ss {
					ss, lens = s, i+1
				}
			}
			lenf += lens - overlap
			lenb -= lens
		}
		extra := (scan - lenb) - (lastscan + lenf)
		offtout(int64(lenf), ctrl[0:8])
		offtout(int64(extra), ctrl[8:16])
		offtout(int64((pos-lenb)-(lastpos+lenf)), ctrl[16:24])
		if _, err := w.Write(ctrl[:]); err != nil {
			return err
		}
		if cap(buf) < lenf {
			buf = make([]byte, lenf)
		}
		d := buf[:lenf]
		for i := range d {
			d[i] = new[lastscan+i] - old[lastpos+i]
		}
		if _, err := w.Write(d); err != nil {
			return err
		}
		if _, err := w.Write(new[lastscan+lenf : lastscan+lenf+extra]); err != nil {
			return err
		}
		lastscan = scan - lenb
		lastpos = pos - lenb
		lastoffset = pos - scan
	}
	return nil
}
