package delta

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/groveos/grove/core/oid"
)

// Opcodes of the part opcode stream (ostree-format.md §7.4).
const (
	OpOpenSpliceAndClose = 'S'
	OpOpen               = 'o'
	OpWrite              = 'w'
	OpSetReadSource      = 'r'
	OpUnsetReadSource    = 'R'
	OpClose              = 'c'
	OpBspatch            = 'B'
)

// OpStats counts opcodes in ostree's show order: open-splice-and-close,
// open, write, set-read-source, unset-read-source, close, bspatch.
type OpStats [7]int

func opIndex(op byte) int {
	switch op {
	case OpOpenSpliceAndClose:
		return 0
	case OpOpen:
		return 1
	case OpWrite:
		return 2
	case OpSetReadSource:
		return 3
	case OpUnsetReadSource:
		return 4
	case OpClose:
		return 5
	case OpBspatch:
		return 6
	}
	return -1
}

// SegmentKind says where a piece of an object's payload comes from.
type SegmentKind uint8

const (
	FromBlob   SegmentKind = iota // Blob[Off:Off+Size]
	FromSource                    // the read source's payload at Off, Size bytes
	Patch                         // bspatch of the read source with Blob[Off:Off+Size]; yields the whole object
)

// Segment is one piece of an object's payload, in order.
type Segment struct {
	Kind      SegmentKind
	Source    oid.Checksum // FromSource, Patch
	Off, Size uint64
}

// Step produces one object.
type Step struct {
	Object oid.ObjectName
	// Mode and Xattrs index the payload tables (content objects only).
	Mode, Xattrs int
	// Size is the object's payload size: the serialised variant for
	// metadata, the file data or the symlink target for content.
	Size     uint64
	Segments []Segment
}

// Program is a part's opcode stream, parsed and checked: every object
// of the header is produced once, in order, and every blob range is
// inside the blob.
type Program struct {
	Steps []Step
	Stats OpStats
}

// Parse checks ops against the part's tables and object list.
func Parse(p *Payload, objects []oid.ObjectName) (*Program, error) {
	prog := &Program{Steps: make([]Step, 0, len(objects))}
	ops := p.Ops
	blobLen := uint64(len(p.Blob))
	var (
		next     int   // index of the next object
		cur      *Step // open object ('o' until 'c')
		src      oid.Checksum
		haveSrc  bool
		opOffset int
		opcode   byte
		errAt    = func(format string, args ...any) error {
			return corrupt("opcode %q at offset %d: %s", opcode, opOffset, fmt.Sprintf(format, args...))
		}
		blobRange = func(off, size uint64) error {
			if off > blobLen || size > blobLen-off {
				return errAt("offset %d size %d past the end of the %d-byte blob", off, size, blobLen)
			}
			return nil
		}
	)
	varint := func() (uint64, error) {
		v, n := binary.Uvarint(ops)
		if n <= 0 {
			return 0, errAt("bad or truncated varint")
		}
		ops = ops[n:]
		return v, nil
	}
	varints := func(dst ...*uint64) error {
		for _, d := range dst {
			v, err := varint()
			if err != nil {
				return err
			}
			*d = v
		}
		return nil
	}
	nextObject := func() (oid.ObjectName, error) {
		if next >= len(objects) {
			return oid.ObjectName{}, errAt("past the end of the object list (%d objects)", len(objects))
		}
		next++
		return objects[next-1], nil
	}
	tables := func(st *Step, m, x uint64) error {
		if m >= uint64(len(p.Modes)) || x >= uint64(len(p.Xattrs)) {
			return errAt("mode %d / xattrs %d out of range (%d modes, %d xattr sets)", m, x, len(p.Modes), len(p.Xattrs))
		}
		st.Mode, st.Xattrs = int(m), int(x)
		return nil
	}
	for len(ops) > 0 {
		opOffset = len(p.Ops) - len(ops)
		opcode = ops[0]
		ops = ops[1:]
		i := opIndex(opcode)
		if i < 0 {
			return nil, corrupt("Unknown opcode %d at offset %d", opcode, opOffset)
		}
		prog.Stats[i]++
		switch opcode {
		case OpOpenSpliceAndClose:
			if cur != nil {
				return nil, errAt("object %s still open", cur.Object)
			}
			obj, err := nextObject()
			if err != nil {
				return nil, err
			}
			st := Step{Object: obj, Mode: -1, Xattrs: -1}
			var size, off uint64
			if obj.Type.IsMeta() {
				if err := varints(&size, &off); err != nil {
					return nil, err
				}
			} else if obj.Type == oid.File {
				var m, x uint64
				if err := varints(&m, &x, &size, &off); err != nil {
					return nil, err
				}
				if err := tables(&st, m, x); err != nil {
					return nil, err
				}
			} else {
				return nil, errAt("cannot produce a %s object", obj.Type)
			}
			if err := blobRange(off, size); err != nil {
				return nil, err
			}
			st.Size = size
			st.Segments = []Segment{{Kind: FromBlob, Off: off, Size: size}}
			prog.Steps = append(prog.Steps, st)
			haveSrc = false
		case OpOpen:
			if cur != nil {
				return nil, errAt("object %s still open", cur.Object)
			}
			obj, err := nextObject()
			if err != nil {
				return nil, err
			}
			if obj.Type != oid.File {
				return nil, errAt("open of a %s object", obj.Type)
			}
			st := Step{Object: obj}
			var m, x uint64
			if err := varints(&m, &x, &st.Size); err != nil {
				return nil, err
			}
			if err := tables(&st, m, x); err != nil {
				return nil, err
			}
			prog.Steps = append(prog.Steps, st)
			cur = &prog.Steps[len(prog.Steps)-1]
		case OpWrite:
			var size, off uint64
			if err := varints(&size, &off); err != nil {
				return nil, err
			}
			if cur == nil {
				return nil, errAt("no open object")
			}
			seg := Segment{Kind: FromBlob, Off: off, Size: size}
			if haveSrc {
				seg.Kind, seg.Source = FromSource, src
				if off > math.MaxInt64 || size > math.MaxInt64-off {
					return nil, errAt("read source range %d+%d overflows", off, size)
				}
			} else if err := blobRange(off, size); err != nil {
				return nil, err
			}
			cur.Segments = append(cur.Segments, seg)
		case OpSetReadSource:
			var off uint64
			if err := varints(&off); err != nil {
				return nil, err
			}
			if err := blobRange(off, oid.Size); err != nil {
				return nil, err
			}
			copy(src[:], p.Blob[off:off+oid.Size])
			haveSrc = true
		case OpUnsetReadSource:
			haveSrc = false
		case OpClose:
			if cur == nil {
				return nil, errAt("no open object")
			}
			var total uint64
			for _, s := range cur.Segments {
				size := s.Size
				if s.Kind == Patch {
					size = cur.Size
				}
				if size > math.MaxUint64-total {
					return nil, errAt("object %s: sizes overflow", cur.Object)
				}
				total += size
			}
			if total != cur.Size {
				return nil, errAt("object %s: %d bytes written, %d declared", cur.Object, total, cur.Size)
			}
			cur = nil
			haveSrc = false
		case OpBspatch:
			var off, size uint64
			if err := varints(&off, &size); err != nil {
				return nil, err
			}
			if err := blobRange(off, size); err != nil {
				return nil, err
			}
			if cur == nil {
				return nil, errAt("no open object")
			}
			if !haveSrc {
				return nil, errAt("no read source")
			}
			cur.Segments = append(cur.Segments, Segment{Kind: Patch, Source: src, Off: off, Size: size})
		}
	}
	if cur != nil {
		return nil, corrupt("object %s not closed at the end of the opcodes", cur.Object)
	}
	if next != len(objects) {
		return nil, corrupt("the opcodes produce %d of the part's %d objects", next, len(objects))
	}
	return prog, nil
}
