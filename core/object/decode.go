package object

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// Direct decoders for the hot object layouts, the inverse of encode.go.
// They only accept what they can prove is in normal form: a decode is
// kept only if re-encoding gives back the very same bytes (the encoding is
// canonical), so they can never accept more than the generic GVariant
// decoder; anything else goes to that decoder, which also words the error.

// offsetWidth is the size of framing offsets in a container of n bytes.
func offsetWidth(n int) int {
	switch {
	case n <= 0xff:
		return 1
	case n <= 0xffff:
		return 2
	case n <= 0xffffffff:
		return 4
	}
	return 8
}

func readOffset(b []byte, w int) int {
	switch w {
	case 1:
		return int(b[0])
	case 2:
		return int(binary.LittleEndian.Uint16(b))
	case 4:
		return int(binary.LittleEndian.Uint32(b))
	}
	v := binary.LittleEndian.Uint64(b)
	if v > 1<<62 {
		return -1
	}
	return int(v)
}

// arrayElems splits an array of variable-sized elements (alignment 1)
// into its elements; ok is false when the framing does not add up.
func arrayElems(b []byte, each func(elem []byte) bool) bool {
	if len(b) == 0 {
		return true
	}
	w := offsetWidth(len(b))
	if len(b) < w {
		return false
	}
	tableStart := readOffset(b[len(b)-w:], w)
	if tableStart < 0 || tableStart > len(b)-w || (len(b)-tableStart)%w != 0 {
		return false
	}
	start := 0
	for off := tableStart; off < len(b); off += w {
		end := readOffset(b[off:], w)
		if end < start || end > tableStart {
			return false
		}
		if !each(b[start:end]) {
			return false
		}
		start = end
	}
	return start == tableStart
}

// arrayLen is how many elements arrayElems will find, if the framing holds.
func arrayLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	w := offsetWidth(len(b))
	if len(b) < w {
		return 0
	}
	start := readOffset(b[len(b)-w:], w)
	if start < 0 || start > len(b) {
		return 0
	}
	return (len(b) - start) / w
}

// splitMembers reads the n end offsets (last member first) at the end of
// a variable-sized element and returns them in member order.
func splitMembers(elem []byte, n int, ends []int) ([]int, []byte, bool) {
	w := offsetWidth(len(elem))
	if len(elem) < n*w {
		return nil, nil, false
	}
	body := elem[:len(elem)-n*w]
	ends = ends[:0]
	for i := 0; i < n; i++ {
		// The offset of member i is the i-th from the end.
		e := readOffset(elem[len(elem)-(i+1)*w:], w)
		if e < 0 || e > len(body) || (i > 0 && e < ends[i-1]) {
			return nil, nil, false
		}
		ends = append(ends, e)
	}
	return ends, body, true
}

// cstring returns s without its NUL, which must be the last byte and the only one.
func cstring(s []byte) (string, bool) {
	if len(s) == 0 || s[len(s)-1] != 0 || bytes.IndexByte(s[:len(s)-1], 0) >= 0 {
		return "", false
	}
	return string(s[:len(s)-1]), true
}

// gstring is cstring for GVariant strings, which must also be UTF-8.
func gstring(s []byte) (string, bool) {
	str, ok := cstring(s)
	return str, ok && utf8.ValidString(str)
}

func decodeDirTree(b []byte) (*DirTree, bool) {
	if len(b) == 0 {
		return nil, false
	}
	w := offsetWidth(len(b))
	if len(b) < w {
		return nil, false
	}
	filesEnd := readOffset(b[len(b)-w:], w)
	if filesEnd < 0 || filesEnd > len(b)-w {
		return nil, false
	}
	t := &DirTree{
		Files: make([]FileEntry, 0, arrayLen(b[:filesEnd])),
		Dirs:  make([]DirEntry, 0, arrayLen(b[filesEnd:len(b)-w])),
	}
	var ends [2]int
	ok := arrayElems(b[:filesEnd], func(e []byte) bool {
		off, body, ok := splitMembers(e, 1, ends[:0])
		if !ok || len(body)-off[0] != 32 {
			return false
		}
		name, ok := gstring(body[:off[0]])
		if !ok {
			return false
		}
		f := FileEntry{Name: name}
		copy(f.Checksum[:], body[off[0]:])
		t.Files = append(t.Files, f)
		return true
	}) && arrayElems(b[filesEnd:len(b)-w], func(e []byte) bool {
		off, body, ok := splitMembers(e, 2, ends[:0])
		if !ok || off[1]-off[0] != 32 || len(body)-off[1] != 32 {
			return false
		}
		name, ok := gstring(body[:off[0]])
		if !ok {
			return false
		}
		d := DirEntry{Name: name}
		copy(d.Tree[:], body[off[0]:off[1]])
		copy(d.Meta[:], body[off[1]:])
		t.Dirs = append(t.Dirs, d)
		return true
	})
	if !ok || !bytes.Equal(t.AppendMarshal(make([]byte, 0, len(b))), b) {
		return nil, false
	}
	return t, true
}

// decodeXattrs reads a(ayay) without the round-trip check (callers make it).
func decodeXattrs(b []byte) ([]Xattr, bool) {
	var xs []Xattr
	var ends [1]int
	ok := arrayElems(b, func(e []byte) bool {
		off, body, ok := splitMembers(e, 1, ends[:0])
		if !ok {
			return false
		}
		name, ok := cstring(body[:off[0]])
		if !ok || name == "" {
			return false
		}
		xs = append(xs, Xattr{Name: name, Value: bytes.Clone(body[off[0]:])})
		return true
	})
	return xs, ok
}

func decodeDirMeta(b []byte) (*DirMeta, bool) {
	if len(b) < 12 {
		return nil, false
	}
	m := &DirMeta{
		UID:  binary.BigEndian.Uint32(b[0:]),
		GID:  binary.BigEndian.Uint32(b[4:]),
		Mode: binary.BigEndian.Uint32(b[8:]),
	}
	xs, ok := decodeXattrs(b[12:])
	if !ok {
		return nil, false
	}
	m.Xattrs = xs
	if !bytes.Equal(appendDirMeta(make([]byte, 0, len(b)), m), b) {
		return nil, false
	}
	return m, true
}

// decodeFileHeader reads (uuuusa(ayay)), or with archive (tuuuusa(ayay)).
func decodeFileHeader(b []byte, archive bool) (*FileHeader, uint64, bool) {
	fixed := 16
	if archive {
		fixed = 24
	}
	w := offsetWidth(len(b))
	if len(b) < fixed+w {
		return nil, 0, false
	}
	strEnd := readOffset(b[len(b)-w:], w)
	if strEnd < fixed+1 || strEnd > len(b)-w {
		return nil, 0, false
	}
	var size uint64
	p := b
	if archive {
		size = binary.BigEndian.Uint64(b)
		p = b[8:]
	}
	h := &FileHeader{
		UID:  binary.BigEndian.Uint32(p[0:]),
		GID:  binary.BigEndian.Uint32(p[4:]),
		Mode: binary.BigEndian.Uint32(p[8:]),
		Rdev: binary.BigEndian.Uint32(p[12:]),
	}
	target, ok := gstring(b[fixed:strEnd])
	if !ok {
		return nil, 0, false
	}
	h.SymlinkTarget = target
	if h.Xattrs, ok = decodeXattrs(b[strEnd : len(b)-w]); !ok {
		return nil, 0, false
	}
	if !bytes.Equal(appendFileHeader(make([]byte, 0, len(b)), h, archive, size), b) {
		return nil, 0, false
	}
	return h, size, true
}

// DecodeDirMetaLayout decodes the (uuua(ayay)) layout of a dirmeta without
// checking that the mode is a directory's: bare-user repositories keep a
// file's ownership, mode and xattrs in it (the user.ostreemeta xattr). It
// reports false for anything it does not take for certain, which the
// caller then hands to the generic decoder.
func DecodeDirMetaLayout(b []byte) (*DirMeta, bool) { return decodeDirMeta(b) }
