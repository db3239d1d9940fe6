package object

import (
	"bytes"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/groveos/grove/core/gvariant"
)

// genericDirTree is the dirtree encoding by the generic GVariant encoder,
// the reference for the direct one.
func genericDirTree(t *DirTree) []byte {
	files := make([]any, len(t.Files))
	for i, f := range t.Files {
		files[i] = gvariant.Tuple{f.Name, f.Checksum[:]}
	}
	dirs := make([]any, len(t.Dirs))
	for i, d := range t.Dirs {
		dirs[i] = gvariant.Tuple{d.Name, d.Tree[:], d.Meta[:]}
	}
	b, err := gvariant.Marshal(dirTreeType, gvariant.Tuple{files, dirs})
	if err != nil {
		panic(err)
	}
	return b
}

func randomDirTree(rng *rand.Rand, nFiles, nDirs, maxName int) *DirTree {
	t := &DirTree{}
	name := func(i int) string {
		return fmt.Sprintf("%06d%s", i, strings.Repeat("n", rng.IntN(maxName)))
	}
	for i := 0; i < nFiles; i++ {
		var e FileEntry
		e.Name = name(i)
		for j := range e.Checksum {
			e.Checksum[j] = byte(rng.Uint32())
		}
		t.Files = append(t.Files, e)
	}
	for i := 0; i < nDirs; i++ {
		var e DirEntry
		e.Name = name(i)
		for j := range e.Tree {
			e.Tree[j], e.Meta[j] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		t.Dirs = append(t.Dirs, e)
	}
	return t
}

// TestDirTreeDirectEncodingMatchesGeneric covers every framing width:
// elements and arrays under 256 bytes, under 64 KiB and beyond, and empty
// arrays on either side.
func TestDirTreeDirectEncodingMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct{ files, dirs, maxName int }{
		{0, 0, 1}, {1, 0, 1}, {0, 1, 1}, {1, 1, 1}, {3, 2, 10},
		{5, 5, 250}, {1, 0, 300}, {0, 1, 300}, // elements over 255 bytes
		{200, 0, 20}, {0, 200, 20}, {60, 60, 40}, // arrays over 255 bytes
		{2000, 10, 30}, {10, 1500, 30}, // over 64 KiB
		{70, 64, 5}, {64, 70, 5}, // around the stack buffer
	}
	for i := 0; i < 200; i++ {
		cases = append(cases, struct{ files, dirs, maxName int }{rng.IntN(20), rng.IntN(20), 1 + rng.IntN(300)})
	}
	for _, c := range cases {
		dt := randomDirTree(rng, c.files, c.dirs, c.maxName)
		got, want := dt.Marshal(), genericDirTree(dt)
		if !bytes.Equal(got, want) {
			t.Fatalf("%d files, %d dirs, names up to %d: direct encoding differs from GVariant's (%d vs %d bytes)",
				c.files, c.dirs, c.maxName, len(got), len(want))
		}
		back, err := UnmarshalDirTree(got)
		if err != nil || len(back.Files) != c.files || len(back.Dirs) != c.dirs {
			t.Fatalf("%d files, %d dirs: round trip: %v", c.files, c.dirs, err)
		}
	}
	if got := (&DirTree{}).Marshal(); !bytes.Equal(got, []byte{0}) {
		t.Errorf("empty dirtree is % x, want 00", got)
	}
}

func BenchmarkDirTreeMarshal(b *testing.B) {
	dt := randomDirTree(rand.New(rand.NewPCG(3, 4)), 8, 2, 20)
	b.Run("direct", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = dt.AppendMarshal(buf[:0])
		}
	})
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			genericDirTree(dt)
		}
	})
}

func randomXattrs(rng *rand.Rand, n, maxValue int) []Xattr {
	xs := make([]Xattr, n)
	for i := range xs {
		xs[i].Name = fmt.Sprintf("user.x%03d%s", i, strings.Repeat("k", rng.IntN(40)))
		xs[i].Value = bytes.Repeat([]byte{byte(rng.Uint32())}, rng.IntN(maxValue+1))
	}
	return xs
}

// TestHeaderDirectEncodingsMatchGeneric checks the direct encoders of
// xattrs, dirmeta, file and archive headers against the generic GVariant
// encoder, over framing widths from 1 to 4 bytes.
func TestHeaderDirectEncodingsMatchGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	mustMarshal := func(typ string, v any) []byte {
		b, err := gvariant.Marshal(gvariant.MustParseType(typ), v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	be := func(v uint32) uint32 { return bits.ReverseBytes32(v) }
	for i := 0; i < 300; i++ {
		n, maxValue := rng.IntN(6), []int{0, 10, 300, 70000}[rng.IntN(4)]
		xs := randomXattrs(rng, n, maxValue)
		target := ""
		if rng.IntN(2) == 0 {
			target = strings.Repeat("t", rng.IntN(400))
		}
		h := &FileHeader{UID: rng.Uint32(), GID: rng.Uint32(), Mode: rng.Uint32(), Rdev: rng.Uint32(), SymlinkTarget: target, Xattrs: xs}
		size := rng.Uint64()
		checks := []struct {
			what      string
			got, want []byte
		}{
			{"xattrs", MarshalXattrs(xs), mustMarshal("a(ayay)", xattrsToVariant(xs))},
			{"dirmeta", (&DirMeta{UID: h.UID, GID: h.GID, Mode: h.Mode, Xattrs: xs}).Marshal(),
				mustMarshal("(uuua(ayay))", gvariant.Tuple{be(h.UID), be(h.GID), be(h.Mode), xattrsToVariant(xs)})},
			{"file header", h.Marshal(),
				mustMarshal("(uuuusa(ayay))", gvariant.Tuple{be(h.UID), be(h.GID), be(h.Mode), be(h.Rdev), target, xattrsToVariant(xs)})},
			{"stream prefix", h.StreamPrefix(), framed(h.Marshal())},
			{"archive header", h.ArchiveHeader(size), framed(mustMarshal("(tuuuusa(ayay))",
				gvariant.Tuple{bits.ReverseBytes64(size), be(h.UID), be(h.GID), be(h.Mode), be(h.Rdev), target, xattrsToVariant(xs)}))},
		}
		for _, c := range checks {
			if !bytes.Equal(c.got, c.want) {
				t.Fatalf("%s (%d xattrs, values up to %d bytes, target %d bytes): direct encoding differs from GVariant's",
					c.what, n, maxValue, len(target))
			}
		}
	}
}

func BenchmarkFileHeaderMarshal(b *testing.B) {
	h := &FileHeader{Mode: 0o100644, Xattrs: randomXattrs(rand.New(rand.NewPCG(7, 8)), 2, 20)}
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			h.StreamPrefix()
		}
	})
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			framed(must(gvariant.Marshal(fileHeaderType, gvariant.Tuple{
				bits.ReverseBytes32(h.UID), bits.ReverseBytes32(h.GID), bits.ReverseBytes32(h.Mode),
				bits.ReverseBytes32(h.Rdev), h.SymlinkTarget, xattrsToVariant(h.Xattrs),
			})))
		}
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
