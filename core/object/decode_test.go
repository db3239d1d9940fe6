package object

import (
	"math/bits"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/groveos/grove/core/gvariant"
)

// The generic decodings, as the reference for the direct decoders.

func genericDirTreeDecode(b []byte) (*DirTree, bool) {
	v, err := gvariant.Unmarshal(dirTreeType, b)
	if err != nil {
		return nil, false
	}
	tup := v.(gvariant.Tuple)
	t := &DirTree{Files: []FileEntry{}, Dirs: []DirEntry{}}
	for _, e := range tup[0].([]any) {
		f := e.(gvariant.Tuple)
		var fe FileEntry
		fe.Name = f[0].(string)
		if copy(fe.Checksum[:], f[1].([]byte)) != 32 || len(f[1].([]byte)) != 32 {
			return nil, false
		}
		t.Files = append(t.Files, fe)
	}
	for _, e := range tup[1].([]any) {
		d := e.(gvariant.Tuple)
		var de DirEntry
		de.Name = d[0].(string)
		if len(d[1].([]byte)) != 32 || len(d[2].([]byte)) != 32 {
			return nil, false
		}
		copy(de.Tree[:], d[1].([]byte))
		copy(de.Meta[:], d[2].([]byte))
		t.Dirs = append(t.Dirs, de)
	}
	return t, true
}

func genericHeaderDecode(b []byte, archive bool) (*FileHeader, uint64, bool) {
	typ := fileHeaderType
	if archive {
		typ = archiveHeaderType
	}
	v, err := gvariant.Unmarshal(typ, b)
	if err != nil {
		return nil, 0, false
	}
	t := v.(gvariant.Tuple)
	var size uint64
	if archive {
		size = bits.ReverseBytes64(t[0].(uint64))
		t = t[1:]
	}
	h := &FileHeader{
		UID: bits.ReverseBytes32(t[0].(uint32)), GID: bits.ReverseBytes32(t[1].(uint32)),
		Mode: bits.ReverseBytes32(t[2].(uint32)), Rdev: bits.ReverseBytes32(t[3].(uint32)),
		SymlinkTarget: t[4].(string),
	}
	xs, err := xattrsFromVariant(t[5])
	if err != nil {
		return nil, 0, false
	}
	h.Xattrs = xs
	return h, size, true
}

func genericDirMetaDecode(b []byte) (*DirMeta, bool) {
	v, err := gvariant.Unmarshal(dirMetaType, b)
	if err != nil {
		return nil, false
	}
	t := v.(gvariant.Tuple)
	xs, err := xattrsFromVariant(t[3])
	if err != nil {
		return nil, false
	}
	return &DirMeta{UID: bits.ReverseBytes32(t[0].(uint32)), GID: bits.ReverseBytes32(t[1].(uint32)),
		Mode: bits.ReverseBytes32(t[2].(uint32)), Xattrs: xs}, true
}

// sameXattrs compares ignoring nil versus empty values.
func normXattrs(xs []Xattr) []Xattr {
	out := make([]Xattr, len(xs))
	for i, x := range xs {
		out[i] = Xattr{x.Name, append([]byte{}, x.Value...)}
	}
	return out
}

// mutate flips, inserts or drops a few bytes.
func mutate(rng *rand.Rand, b []byte) []byte {
	m := append([]byte(nil), b...)
	for n := 1 + rng.IntN(3); n > 0 && len(m) > 0; n-- {
		i := rng.IntN(len(m))
		switch rng.IntN(4) {
		case 0, 1:
			m[i] ^= byte(1 << rng.IntN(8))
		case 2:
			m = append(m[:i], m[i+1:]...)
		case 3:
			m = append(m[:i], append([]byte{byte(rng.Uint32())}, m[i:]...)...)
		}
	}
	return m
}

// TestDirectDecodersAgreeWithGeneric decodes valid encodings and tens of
// thousands of corrupted ones both ways: the direct decoders must never
// accept what the generic decoder refuses, and must decode what they
// accept to the same value.
func TestDirectDecodersAgreeWithGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var accepted, refused int
	for i := 0; i < 3000; i++ {
		dt := randomDirTree(rng, rng.IntN(12), rng.IntN(6), 1+rng.IntN(rng.IntN(300)+1))
		xs := randomXattrs(rng, rng.IntN(4), []int{0, 8, 300}[rng.IntN(3)])
		h := &FileHeader{UID: rng.Uint32(), GID: rng.Uint32(), Mode: rng.Uint32(), Rdev: rng.Uint32(),
			SymlinkTarget: strings.Repeat("t", rng.IntN(3)*rng.IntN(200)), Xattrs: xs}
		dm := &DirMeta{UID: h.UID, GID: h.GID, Mode: h.Mode, Xattrs: xs}
		size := rng.Uint64()
		encodings := [][]byte{dt.Marshal(), h.Marshal(), h.ArchiveHeader(size)[8:], dm.Marshal()}
		for k, valid := range encodings {
			for round := 0; round < 8; round++ {
				b := valid
				if round > 0 {
					b = mutate(rng, valid)
				}
				var fastOK, genOK bool
				var fast, gen any
				switch k {
				case 0:
					f, ok1 := decodeDirTree(b)
					g, ok2 := genericDirTreeDecode(b)
					fastOK, genOK, fast, gen = ok1, ok2, f, g
				case 1, 2:
					f, fs, ok1 := decodeFileHeader(b, k == 2)
					g, gs, ok2 := genericHeaderDecode(b, k == 2)
					if ok1 {
						f.Xattrs = normXattrs(f.Xattrs)
					}
					if ok2 {
						g.Xattrs = normXattrs(g.Xattrs)
					}
					fastOK, genOK, fast, gen = ok1, ok2, []any{f, fs}, []any{g, gs}
				case 3:
					f, ok1 := decodeDirMeta(b)
					g, ok2 := genericDirMetaDecode(b)
					if ok1 {
						f.Xattrs = normXattrs(f.Xattrs)
					}
					if ok2 {
						g.Xattrs = normXattrs(g.Xattrs)
					}
					fastOK, genOK, fast, gen = ok1, ok2, f, g
				}
				if round == 0 && !fastOK {
					t.Fatalf("layout %d: the direct decoder refused a valid encoding % x", k, b)
				}
				if fastOK && !genOK {
					t.Fatalf("layout %d: the direct decoder accepted % x, which GVariant refuses", k, b)
				}
				if fastOK && !reflect.DeepEqual(fast, gen) {
					t.Fatalf("layout %d: % x decodes to %+v, GVariant says %+v", k, b, fast, gen)
				}
				if fastOK {
					accepted++
				} else {
					refused++
				}
			}
		}
	}
	t.Logf("%d encodings accepted by both, %d left to the generic decoder", accepted, refused)
}

func FuzzDirectDecoders(f *testing.F) {
	rng := rand.New(rand.NewPCG(11, 12))
	f.Add(randomDirTree(rng, 3, 2, 10).Marshal())
	f.Add((&FileHeader{Mode: 0o100644, Xattrs: randomXattrs(rng, 2, 5)}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, ok := decodeDirTree(b); ok {
			if g, ok := genericDirTreeDecode(b); !ok || !reflect.DeepEqual(d, g) {
				t.Fatalf("dirtree % x: direct %+v, generic %+v (%v)", b, d, g, ok)
			}
		}
		for _, archive := range []bool{false, true} {
			if h, size, ok := decodeFileHeader(b, archive); ok {
				g, gs, ok := genericHeaderDecode(b, archive)
				if !ok || g.UID != h.UID || g.Mode != h.Mode || g.SymlinkTarget != h.SymlinkTarget || gs != size {
					t.Fatalf("header % x (archive %v): direct %+v, generic %+v (%v)", b, archive, h, g, ok)
				}
			}
		}
		if _, ok := decodeDirMeta(b); ok {
			if _, ok := genericDirMetaDecode(b); !ok {
				t.Fatalf("dirmeta % x: accepted directly, refused by GVariant", b)
			}
		}
	})
}

func BenchmarkDirTreeUnmarshal(b *testing.B) {
	enc := randomDirTree(rand.New(rand.NewPCG(3, 4)), 8, 2, 20).Marshal()
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := UnmarshalDirTree(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			genericDirTreeDecode(enc)
		}
	})
}
