package delta

import (
	"fmt"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
)

// PayloadType is the type of a part's payload once decompressed.
var PayloadType = gvariant.MustParseType("(a(uuu)aa(ayay)ayay)")

// Compression bytes of a part file.
const (
	CompressionNone = 0
	CompressionXZ   = 'x'
)

// Mode is an entry of a part's mode table, host values (stored BE).
type Mode struct{ UID, GID, Mode uint32 }

// Payload is a decoded part: mode and xattr tables, the data blob and the
// opcode stream.
type Payload struct {
	Modes  []Mode
	Xattrs [][]object.Xattr
	Blob   []byte
	Ops    []byte
}

// UnmarshalPayload decodes a part payload.
func UnmarshalPayload(b []byte) (*Payload, error) {
	v, err := gvariant.Unmarshal(PayloadType, b)
	if err != nil {
		return nil, corrupt("part payload: %v", err)
	}
	t := v.(gvariant.Tuple)
	p := &Payload{Blob: t[2].([]byte), Ops: t[3].([]byte)}
	modes, _ := t[0].([]any)
	p.Modes = make([]Mode, len(modes))
	for i, m := range modes {
		mt := m.(gvariant.Tuple)
		p.Modes[i] = Mode{swap32(true, mt[0].(uint32)), swap32(true, mt[1].(uint32)), swap32(true, mt[2].(uint32))}
	}
	xsets, _ := t[1].([]any)
	p.Xattrs = make([][]object.Xattr, len(xsets))
	for i, x := range xsets {
		raw, err := gvariant.Marshal(xattrsType, x)
		if err != nil {
			return nil, corrupt("part xattrs %d: %v", i, err)
		}
		if p.Xattrs[i], err = object.UnmarshalXattrs(raw); err != nil {
			return nil, corrupt("part xattrs %d: %v", i, err)
		}
	}
	return p, nil
}

var xattrsType = gvariant.MustParseType("a(ayay)")

// MarshalPayload serialises a payload.
func (p *Payload) Marshal() []byte {
	modes := make([]any, len(p.Modes))
	for i, m := range p.Modes {
		modes[i] = gvariant.Tuple{swap32(true, m.UID), swap32(true, m.GID), swap32(true, m.Mode)}
	}
	xs := make([]any, len(p.Xattrs))
	for i, x := range p.Xattrs {
		v, err := gvariant.Unmarshal(xattrsType, object.MarshalXattrs(x))
		if err != nil {
			panic("delta: xattrs: " + err.Error())
		}
		xs[i] = v
	}
	blob, ops := p.Blob, p.Ops
	if blob == nil {
		blob = []byte{}
	}
	if ops == nil {
		ops = []byte{}
	}
	b, err := gvariant.Marshal(PayloadType, gvariant.Tuple{modes, xs, blob, ops})
	if err != nil {
		panic("delta: marshal payload: " + err.Error())
	}
	return b
}

// OpenPart checks a part file and returns its payload. want, when not
// nil, is the checksum from the part header: it is checked over the whole
// file before anything is decompressed (inline parts pass nil; the
// superblock covers them). limit bounds the decompressed size.
func OpenPart(data []byte, want *oid.Checksum, limit int64) (*Payload, error) {
	if want != nil {
		if got := oid.Sum(data); got != *want {
			return nil, fmt.Errorf("%w: static delta part: expected=%s actual=%s", ErrChecksum, want, got)
		}
	}
	raw, err := decompress(data, limit)
	if err != nil {
		return nil, err
	}
	return UnmarshalPayload(raw)
}

func decompress(data []byte, limit int64) ([]byte, error) {
	if len(data) == 0 {
		return nil, corrupt("empty part")
	}
	switch data[0] {
	case CompressionNone:
		if int64(len(data)-1) > limit {
			return nil, fmt.Errorf("%w: part payload of %d bytes (limit %d)", ErrTooLarge, len(data)-1, limit)
		}
		// Copied: the payload starts unaligned at offset 1.
		return append([]byte(nil), data[1:]...), nil
	case CompressionXZ:
		return xzDecode(data[1:], limit)
	}
	return nil, corrupt("Invalid compression type '%d'", data[0])
}

// PayloadLimit is the most a part's payload may decompress to, given its
// header: the objects' sizes plus room for tables, checksums and opcodes.
// An absolute cap still applies (max).
func PayloadLimit(h PartHeader, max int64) int64 {
	l := int64(h.USize)
	if h.USize > uint64(max) {
		l = max
	}
	l += 1<<20 + int64(len(h.Objects))*256
	return min(l, max)
}
