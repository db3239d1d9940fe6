package bsdiff

import (
	"bytes"
	"errors"
	"index/suffixarray"
	"math/rand/v2"
	"sort"
	"testing"
)

func apply(t testing.TB, old, patch []byte, newSize int) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := Patch(bytes.NewReader(old), int64(len(old)), patch, int64(newSize), &out); err != nil {
		t.Fatalf("Patch: %v", err)
	}
	return out.Bytes()
}

// mutate makes a plausible "new version": edits, insertions, deletions
// and shifted copies of old.
func mutate(r *rand.Rand, old []byte) []byte {
	out := append([]byte(nil), old...)
	for range 1 + r.IntN(20) {
		if len(out) == 0 {
			out = append(out, byte(r.IntN(256)))
			continue
		}
		i := r.IntN(len(out))
		switch r.IntN(4) {
		case 0: // overwrite a few bytes
			for j := i; j < min(len(out), i+1+r.IntN(8)); j++ {
				out[j] = byte(r.IntN(256))
			}
		case 1: // insert
			ins := make([]byte, r.IntN(64))
			for j := range ins {
				ins[j] = byte(r.IntN(256))
			}
			out = append(out[:i], append(ins, out[i:]...)...)
		case 2: // delete
			out = append(out[:i], out[min(len(out), i+r.IntN(64)):]...)
		case 3: // add a constant to a run (a shifted address table)
			for j := i; j < min(len(out), i+r.IntN(200)); j += 4 {
				out[j] += 3
			}
		}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	cases := [][2][]byte{
		{nil, nil},
		{nil, []byte("hello")},
		{[]byte("hello"), nil},
		{[]byte("hello"), []byte("hello")},
		{bytes.Repeat([]byte{0}, 10000), bytes.Repeat([]byte{0}, 12000)},
		{[]byte("abcabcabcabc"), []byte("abcabcXabcabc")},
	}
	for range 40 {
		old := make([]byte, r.IntN(20000))
		for i := range old {
			// Low entropy so that matches exist.
			old[i] = byte(r.IntN(8)) + 'a'
		}
		cases = append(cases, [2][]byte{old, mutate(r, old)})
	}
	for i, c := range cases {
		old, new := c[0], c[1]
		patch, err := DiffBytes(old, new)
		if err != nil {
			t.Fatal(err)
		}
		if got := apply(t, old, patch, len(new)); !bytes.Equal(got, new) {
			t.Fatalf("case %d: round trip differs (old %d, new %d bytes)", i, len(old), len(new))
		}
	}
}

// A patch between similar inputs is mostly zero diff bytes: what makes
// bsdiff worth shipping compressed.
func TestPatchIsSparse(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	old := make([]byte, 200000)
	for i := range old {
		old[i] = byte(r.IntN(256))
	}
	new := mutate(r, old)
	patch, err := DiffBytes(old, new)
	if err != nil {
		t.Fatal(err)
	}
	nonzero := 0
	for _, b := range patch {
		if b != 0 {
			nonzero++
		}
	}
	if nonzero > len(new)/20 {
		t.Fatalf("%d non-zero bytes in a %d-byte patch of a %d-byte file with small edits", nonzero, len(patch), len(new))
	}
}

// The suffix array decoded from index/suffixarray's serialisation is the
// sorted order of all suffixes, the empty one first.
func TestSuffixArray(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 2, 17, 1000, 70000} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.IntN(3))
		}
		sa, err := suffixArray(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(sa) != n+1 || sa[0] != int32(n) {
			t.Fatalf("n=%d: len %d, first %d", n, len(sa), sa[0])
		}
		if !sort.SliceIsSorted(sa, func(i, j int) bool { return bytes.Compare(data[sa[i]:], data[sa[j]:]) < 0 }) {
			t.Fatalf("n=%d: not sorted", n)
		}
		// Cross-check against the index's own lookups.
		idx := suffixarray.New(data)
		if n > 3 {
			if got := idx.Lookup(data[:3], -1); len(got) == 0 {
				t.Fatal("lookup found nothing")
			}
		}
	}
}

func TestOfftRoundTrip(t *testing.T) {
	t.Parallel()
	var b [8]byte
	for _, x := range []int64{0, 1, -1, 255, 256, -256, 1 << 40, -(1 << 40), 1<<63 - 1, -(1<<63 - 1)} {
		offtout(x, b[:])
		if got := offtin(b[:]); got != x {
			t.Fatalf("%d → %x → %d", x, b, got)
		}
	}
	// Sign-magnitude, not two's complement.
	offtout(-1, b[:])
	if b != [8]byte{1, 0, 0, 0, 0, 0, 0, 0x80} {
		t.Fatalf("-1 encodes as %x", b)
	}
}

func ctrl(c0, c1, c2 int64) []byte {
	b := make([]byte, 24)
	offtout(c0, b[0:])
	offtout(c1, b[8:])
	offtout(c2, b[16:])
	return b
}

func TestPatchRejects(t *testing.T) {
	t.Parallel()
	old := []byte("0123456789")
	cases := map[string]struct {
		patch   []byte
		newSize int64
	}{
		"empty patch":           {nil, 5},
		"short control":         {ctrl(1, 0, 0)[:20], 5},
		"diff past new size":    {append(ctrl(6, 0, 0), "xxxxxx"...), 5},
		"extra past new size":   {append(ctrl(0, 6, 0), "xxxxxx"...), 5},
		"negative diff":         {ctrl(-1, 0, 0), 5},
		"huge extra":            {ctrl(0, 1<<40, 0), 1 << 41},
		"diff data missing":     {ctrl(5, 0, 0), 5},
		"extra data missing":    {append(ctrl(0, 5, 0), "ab"...), 5},
		"stops short of size":   {append(ctrl(0, 2, 0), "ab"...), 5},
		"old position overflow": {append(append(ctrl(0, 1, 1<<63-1), 'a'), append(ctrl(0, 1, 1<<63-1), 'b')...), 3},
	}
	for name, c := range cases {
		var out bytes.Buffer
		err := Patch(bytes.NewReader(old), int64(len(old)), c.patch, c.newSize, &out)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
		if int64(out.Len()) > c.newSize {
			t.Errorf("%s: wrote %d bytes past the new size %d", name, out.Len(), c.newSize)
		}
	}
}

// Old bytes outside the old file add nothing, as in Endsley's bspatch.
func TestPatchOldOutOfRange(t *testing.T) {
	t.Parallel()
	old := []byte{10, 20, 30}
	patch := append(ctrl(5, 0, 0), 1, 1, 1, 1, 1)
	if got := apply(t, old, patch, 5); !bytes.Equal(got, []byte{11, 21, 31, 1, 1}) {
		t.Fatalf("got %v", got)
	}
	// Negative old position after a seek backwards.
	patch = append(append(ctrl(0, 1, -2), 7), append(ctrl(3, 0, 0), 1, 1, 1)...)
	if got := apply(t, old, patch, 4); !bytes.Equal(got, []byte{7, 1, 1, 11}) {
		t.Fatalf("got %v", got)
	}
}

func BenchmarkDiff(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	old := make([]byte, 4<<20)
	for i := range old {
		old[i] = byte(r.IntN(16))
	}
	new := mutate(r, old)
	b.SetBytes(int64(len(old)))
	for b.Loop() {
		if _, err := DiffBytes(old, new); err != nil {
			b.Fatal(err)
		}
	}
}
