package delta

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
)

// GVariant types of the delta formats.
var (
	SuperblockType = gvariant.MustParseType("(a{sv}tayay(a{sv}aya(say)sstayay)aya(uayttay)a(yaytt))")
	SignedType     = gvariant.MustParseType("(taya{sv})")
	commitType     = gvariant.MustParseType("(a{sv}aya(say)sstayay)")
)

// Metadata keys of the superblock.
const (
	KeyEndianness = "ostree.endianness"
	// KeyStaticDeltas is the summary and delta-index key listing deltas.
	KeyStaticDeltas = "ostree.static-deltas"
)

// SignedMagic is the first field of a signed superblock; stored
// big-endian it reads "OSTSGNDT".
const SignedMagic = 0x4F535453474E4454

// PartVersion is the only part format version.
const PartVersion = 0

// Endianness says in which byte order a delta's part headers and fallback
// sizes were written.
type Endianness byte

const (
	Little  Endianness = 'l'
	Big     Endianness = 'B'
	Invalid Endianness = 0 // an unknown ostree.endianness value, or no key and no evidence
)

func (e Endianness) String() string {
	switch e {
	case Little:
		return "little"
	case Big:
		return "big"
	}
	return "invalid"
}

// PartHeader describes one part (a(uayttay) element), values in host order.
type PartHeader struct {
	Version  uint32
	Checksum oid.Checksum // SHA-256 of the part file, compression byte included
	Size     uint64       // part file size
	USize    uint64       // sum of the sizes of the objects it produces
	Objects  []oid.ObjectName
}

// Fallback is an object the client fetches on its own (a(yaytt) element).
type Fallback struct {
	Object oid.ObjectName
	Size   uint64 // stored (.filez) size
	USize  uint64 // content length
}

// Superblock is a decoded superblock (the unsigned form).
type Superblock struct {
	// Metadata is field 0 as read or to be written, less the keys this
	// package manages (endianness, inline parts, commitmeta), which are
	// in the fields below.
	Metadata  []gvariant.DictEntry
	Timestamp uint64 // seconds since the epoch
	From, To  oid.Checksum
	Commit    []byte // the TO commit object, serialised
	Recurse   []byte // always empty in practice
	Parts     []PartHeader
	Fallbacks []Fallback
	// Inline holds the part files stored in the superblock, by index.
	Inline map[int][]byte
	// CommitMeta is the TO commit's detached metadata (a{sv}), or nil.
	CommitMeta []byte
	// Endian is the byte order the sizes were read in (decoding) or are to
	// be written in (encoding; zero means Little). Heuristic says it was
	// guessed because the key was absent.
	Endian    Endianness
	Heuristic bool
}

// Name is the delta's name.
func (sb *Superblock) Name() Name { return Name{From: sb.From, To: sb.To} }

func swap32(swap bool, v uint32) uint32 {
	if swap {
		return bits.ReverseBytes32(v)
	}
	return v
}

func swap64(swap bool, v uint64) uint64 {
	if swap {
		return bits.ReverseBytes64(v)
	}
	return v
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// IsSigned reports whether data is a signed superblock file.
func IsSigned(data []byte) bool {
	return len(data) >= 8 && binary.BigEndian.Uint64(data) == SignedMagic
}

// Signed is a signed superblock file: the unsigned superblock bytes and
// the signatures over them (keys "ostree.sign.TYPE" → aay).
type Signed struct {
	Superblock []byte
	Signatures []gvariant.DictEntry
}

// SignatureTypes lists the signature types present ("ed25519", …).
func (s *Signed) SignatureTypes() []string {
	var out []string
	for _, e := range s.Signatures {
		if k, ok := e.Key.(string); ok && len(k) > len("ostree.sign.") && k[:len("ostree.sign.")] == "ostree.sign." {
			out = append(out, k[len("ostree.sign."):])
		}
	}
	return out
}

// Signatures returns the raw signatures of one type.
func (s *Signed) SignaturesOf(typ string) [][]byte {
	v, ok := gvariant.Lookup(s.Signatures, "ostree.sign."+typ)
	if !ok {
		return nil
	}
	vv, ok := v.(gvariant.Variant)
	if !ok || vv.Type.String() != "aay" {
		return nil
	}
	arr, _ := vv.Value.([]any)
	var out [][]byte
	for _, a := range arr {
		if b, ok := a.([]byte); ok {
			out = append(out, b)
		}
	}
	return out
}

// ParseSigned decodes a signed superblock file.
func ParseSigned(data []byte) (*Signed, error) {
	v, err := gvariant.Unmarshal(SignedType, data)
	if err != nil {
		return nil, corrupt("signed superblock: %v", err)
	}
	t := v.(gvariant.Tuple)
	if bits.ReverseBytes64(t[0].(uint64)) != SignedMagic {
		return nil, corrupt("signed superblock: bad magic")
	}
	d, _ := t[2].([]gvariant.DictEntry)
	return &Signed{Superblock: t[1].([]byte), Signatures: d}, nil
}

// MarshalSigned wraps unsigned superblock bytes with signatures, each
// entry "ostree.sign.TYPE" → Variant of type aay.
func MarshalSigned(unsigned []byte, sigs []gvariant.DictEntry) []byte {
	if sigs == nil {
		sigs = []gvariant.DictEntry{}
	}
	b, err := gvariant.Marshal(SignedType, gvariant.Tuple{bits.ReverseBytes64(SignedMagic), unsigned, sigs})
	if err != nil {
		panic("delta: marshal signed superblock: " + err.Error())
	}
	return b
}

// ParseFile decodes a superblock file, signed or not. For a signed file
// it also returns the wrapper (for signature checks).
func ParseFile(data []byte) (*Superblock, *Signed, error) {
	if IsSigned(data) {
		s, err := ParseSigned(data)
		if err != nil {
			return nil, nil, err
		}
		sb, err := ParseSuperblock(s.Superblock)
		return sb, s, err
	}
	sb, err := ParseSuperblock(data)
	return sb, nil, err
}

// ParseSuperblock decodes unsigned superblock bytes, checks the embedded
// commit against TO, and converts sizes to host values.
func ParseSuperblock(data []byte) (*Superblock, error) {
	v, err := gvariant.Unmarshal(SuperblockType, data)
	if err != nil {
		return nil, corrupt("superblock: %v", err)
	}
	t := v.(gvariant.Tuple)
	sb := &Superblock{Timestamp: bits.ReverseBytes64(t[1].(uint64))}
	if from := t[2].([]byte); len(from) > 0 {
		if sb.From, err = oid.FromBytes(from); err != nil || sb.From.IsZero() {
			return nil, corrupt("superblock: FROM checksum %x", from)
		}
	}
	if sb.To, err = oid.FromBytes(t[3].([]byte)); err != nil {
		return nil, corrupt("superblock: TO checksum: %v", err)
	}
	if sb.Commit, err = gvariant.Marshal(commitType, t[4]); err != nil {
		return nil, corrupt("superblock: commit: %v", err)
	}
	if got := oid.Sum(sb.Commit); got != sb.To {
		return nil, fmt.Errorf("%w: the superblock's commit is %s, not the delta's target %s", ErrChecksum, got, sb.To)
	}
	if _, err := object.UnmarshalCommit(sb.Commit); err != nil {
		return nil, corrupt("superblock: %v", err)
	}
	sb.Recurse = t[5].([]byte)
	meta, _ := t[0].([]gvariant.DictEntry)
	parts, _ := t[6].([]any)
	fallbacks, _ := t[7].([]any)

	sb.Endian, sb.Heuristic = endianness(meta, parts)
	swap := sb.Endian == Big
	name := sb.Name()
	inlineKeys := map[string]int{}
	for i := range parts {
		inlineKeys[name.PartPath(i)] = i
	}
	for _, e := range meta {
		k, _ := e.Key.(string)
		val, _ := e.Value.(gvariant.Variant)
		if i, ok := inlineKeys[k]; ok && val.Type.String() == "(yay)" {
			pt := val.Value.(gvariant.Tuple)
			if sb.Inline == nil {
				sb.Inline = map[int][]byte{}
			}
			// The (yay) value is exactly the bytes a part file would hold.
			sb.Inline[i] = append([]byte{pt[0].(byte)}, pt[1].([]byte)...)
			continue
		}
		if k == name.CommitMetaKey() && val.Type.String() == "a{sv}" {
			sb.CommitMeta = object.MarshalMeta(val.Value.([]gvariant.DictEntry))
			continue
		}
		if k == KeyEndianness {
			continue
		}
		sb.Metadata = append(sb.Metadata, e)
	}

	for i, p := range parts {
		pt := p.(gvariant.Tuple)
		h := PartHeader{
			Version: swap32(swap, pt[0].(uint32)),
			Size:    swap64(swap, pt[2].(uint64)),
			USize:   swap64(swap, pt[3].(uint64)),
		}
		if h.Checksum, err = oid.FromBytes(pt[1].([]byte)); err != nil {
			return nil, corrupt("part %d header: %v", i, err)
		}
		if h.Objects, err = ParseObjectList(pt[4].([]byte)); err != nil {
			return nil, corrupt("part %d header: %v", i, err)
		}
		sb.Parts = append(sb.Parts, h)
	}
	for i, f := range fallbacks {
		ft := f.(gvariant.Tuple)
		typ := oid.ObjectType(ft[0].(byte))
		sum, err := oid.FromBytes(ft[1].([]byte))
		if err != nil || !typ.Valid() {
			return nil, corrupt("fallback %d: bad object (type %d)", i, typ)
		}
		sb.Fallbacks = append(sb.Fallbacks, Fallback{
			Object: oid.ObjectName{Checksum: sum, Type: typ},
			Size:   swap64(swap, ft[2].(uint64)),
			USize:  swap64(swap, ft[3].(uint64)),
		})
	}
	return sb, nil
}

// endianness reads ostree.endianness, or guesses as ostree does when it
// is absent: a part much bigger compressed than uncompressed, or an
// average object over 4 GiB, means the sizes are byte-swapped.
func endianness(meta []gvariant.DictEntry, parts []any) (Endianness, bool) {
	if v, ok := gvariant.Lookup(meta, KeyEndianness); ok {
		if vv, ok := v.(gvariant.Variant); ok && vv.Type.String() == "y" {
			switch vv.Value.(byte) {
			case 'l':
				return Little, false
			case 'B':
				return Big, false
			}
		}
		return Invalid, false
	}
	var total, objects uint64
	for _, p := range parts {
		pt := p.(gvariant.Tuple)
		size, usize := pt[2].(uint64), pt[3].(uint64)
		objects += uint64(len(pt[4].([]byte)) / objRecord)
		total += size
		if size > usize && float64(size)/float64(usize) > 1.2 {
			return Big, true
		}
	}
	if objects > 0 && total/objects > math.MaxUint32 {
		return Big, true
	}
	return Invalid, true
}

// objRecord is the size of one object list entry: type byte + checksum.
const objRecord = 1 + oid.Size

// ParseObjectList reads a part header's object list.
func ParseObjectList(b []byte) ([]oid.ObjectName, error) {
	if len(b)%objRecord != 0 {
		return nil, fmt.Errorf("object list of %d bytes is not a multiple of %d", len(b), objRecord)
	}
	out := make([]oid.ObjectName, 0, len(b)/objRecord)
	for ; len(b) > 0; b = b[objRecord:] {
		t := oid.ObjectType(b[0])
		if !t.Valid() {
			return nil, fmt.Errorf("invalid object type %d", b[0])
		}
		var c oid.Checksum
		copy(c[:], b[1:objRecord])
		out = append(out, oid.ObjectName{Checksum: c, Type: t})
	}
	return out, nil
}

// MarshalObjectList is the inverse of ParseObjectList.
func MarshalObjectList(objs []oid.ObjectName) []byte {
	b := make([]byte, 0, len(objs)*objRecord)
	for _, o := range objs {
		b = append(b, byte(o.Type))
		b = append(b, o.Checksum[:]...)
	}
	return b
}

// Marshal serialises the superblock (unsigned): caller metadata first,
// then ostree.endianness, inline parts and the commitmeta, as ostree
// writes them.
func (sb *Superblock) Marshal() []byte {
	endian := sb.Endian
	if endian != Big {
		endian = Little
	}
	swap := endian == Big
	name := sb.Name()
	meta := append([]gvariant.DictEntry{}, sb.Metadata...)
	meta = append(meta, gvariant.DictEntry{Key: KeyEndianness, Value: gvariant.NewVariant("y", byte(endian))})
	for i := range sb.Parts {
		if p, ok := sb.Inline[i]; ok && len(p) > 0 {
			meta = append(meta, gvariant.DictEntry{Key: name.PartPath(i), Value: gvariant.NewVariant("(yay)", gvariant.Tuple{p[0], p[1:]})})
		}
	}
	if sb.CommitMeta != nil {
		d, err := object.UnmarshalMeta(sb.CommitMeta)
		if err == nil {
			meta = append(meta, gvariant.DictEntry{Key: name.CommitMetaKey(), Value: gvariant.NewVariant("a{sv}", d)})
		}
	}
	parts := make([]any, len(sb.Parts))
	for i, p := range sb.Parts {
		parts[i] = gvariant.Tuple{swap32(swap, p.Version), p.Checksum.Bytes(), swap64(swap, p.Size), swap64(swap, p.USize), MarshalObjectList(p.Objects)}
	}
	fallbacks := make([]any, len(sb.Fallbacks))
	for i, f := range sb.Fallbacks {
		fallbacks[i] = gvariant.Tuple{byte(f.Object.Type), f.Object.Checksum.Bytes(), swap64(swap, f.Size), swap64(swap, f.USize)}
	}
	var from []byte
	if !sb.From.IsZero() {
		from = sb.From.Bytes()
	}
	commit, err := gvariant.Unmarshal(commitType, sb.Commit)
	if err != nil {
		panic("delta: superblock commit is not a commit: " + err.Error())
	}
	recurse := sb.Recurse
	if recurse == nil {
		recurse = []byte{}
	}
	if from == nil {
		from = []byte{}
	}
	b, err := gvariant.Marshal(SuperblockType, gvariant.Tuple{meta, bits.ReverseBytes64(sb.Timestamp), from, sb.To.Bytes(), commit, recurse, parts, fallbacks})
	if err != nil {
		panic("delta: marshal superblock: " + err.Error())
	}
	return b
}
