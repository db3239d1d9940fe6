package object

import "encoding/binary"

// appendDirTree serialises t as (a(say)a(sayay)) directly: the generic
// gvariant encoder builds a value tree first, which costs more than the
// hashing when a commit writes thousands of directories. The framing
// rules are GVariant's (see package gvariant): variable-sized members are
// followed by little-endian end offsets, one per element of an array and
// one per non-last member of a tuple (last member first), each as wide as
// the container's size needs.
func appendDirTree(b []byte, t *DirTree) []byte {
	start := len(b)
	// a(say): each element is name NUL, checksum, offset of the name's end.
	var ends []int
	if len(t.Files)+len(t.Dirs) <= 64 {
		var stack [64]int
		ends = stack[:0]
	}
	for _, f := range t.Files {
		e := len(b)
		b = append(b, f.Name...)
		b = append(b, 0)
		b = append(b, f.Checksum[:]...)
		b = appendOffsets(b, len(b)-e, len(f.Name)+1)
		ends = append(ends, len(b)-start)
	}
	b = appendOffsets(b, len(b)-start, ends...)
	filesEnd := len(b) - start
	// a(sayay): name NUL, tree, meta, then the ends of meta's predecessors
	// in reverse order.
	ends = ends[:0]
	for _, d := range t.Dirs {
		e := len(b)
		b = append(b, d.Name...)
		b = append(b, 0)
		b = append(b, d.Tree[:]...)
		b = append(b, d.Meta[:]...)
		n := len(d.Name) + 1
		b = appendOffsets(b, len(b)-e, n+32, n)
		ends = append(ends, len(b)-start-filesEnd)
	}
	b = appendOffsets(b, len(b)-start-filesEnd, ends...)
	// The tuple frames its first member.
	return appendOffsets(b, len(b)-start, filesEnd)
}

// appendOffsets appends the framing offsets of a container whose body is
// size bytes long, in the width GVariant picks for body plus offsets.
func appendOffsets(b []byte, size int, offs ...int) []byte {
	if len(offs) == 0 {
		return b
	}
	switch n := len(offs); {
	case size+n <= 0xff:
		for _, o := range offs {
			b = append(b, byte(o))
		}
	case size+2*n <= 0xffff:
		for _, o := range offs {
			b = binary.LittleEndian.AppendUint16(b, uint16(o))
		}
	case size+4*n <= 0xffffffff:
		for _, o := range offs {
			b = binary.LittleEndian.AppendUint32(b, uint32(o))
		}
	default:
		for _, o := range offs {
			b = binary.LittleEndian.AppendUint64(b, uint64(o))
		}
	}
	return b
}

// appendXattrs serialises a(ayay): per element the NUL-terminated name,
// the value, and the offset of the name's end.
func appendXattrs(b []byte, xs []Xattr) []byte {
	start := len(b)
	var ends []int
	if len(xs) <= 16 {
		var stack [16]int
		ends = stack[:0]
	}
	for _, x := range xs {
		e := len(b)
		b = append(b, x.Name...)
		b = append(b, 0)
		b = append(b, x.Value...)
		b = appendOffsets(b, len(b)-e, len(x.Name)+1)
		ends = append(ends, len(b)-start)
	}
	return appendOffsets(b, len(b)-start, ends...)
}

// appendDirMeta serialises (uuua(ayay)); the integers are big-endian as
// libostree stores them, and the array, last, needs no framing.
func appendDirMeta(b []byte, m *DirMeta) []byte {
	b = binary.BigEndian.AppendUint32(b, m.UID)
	b = binary.BigEndian.AppendUint32(b, m.GID)
	b = binary.BigEndian.AppendUint32(b, m.Mode)
	return appendXattrs(b, m.Xattrs)
}

// appendFileHeader serialises (uuuusa(ayay)), or with size the archive
// form (tuuuusa(ayay)); the string is framed by its end offset.
func appendFileHeader(b []byte, h *FileHeader, archive bool, size uint64) []byte {
	start := len(b)
	if archive {
		b = binary.BigEndian.AppendUint64(b, size)
	}
	b = binary.BigEndian.AppendUint32(b, h.UID)
	b = binary.BigEndian.AppendUint32(b, h.GID)
	b = binary.BigEndian.AppendUint32(b, h.Mode)
	b = binary.BigEndian.AppendUint32(b, h.Rdev)
	b = append(b, h.SymlinkTarget...)
	b = append(b, 0)
	strEnd := len(b) - start
	b = appendXattrs(b, h.Xattrs)
	return appendOffsets(b, len(b)-start, strEnd)
}
