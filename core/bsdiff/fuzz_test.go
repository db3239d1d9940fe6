package bsdiff

import (
	"bytes"
	"testing"
)

// limitWriter fails the fuzz run if Patch writes past the new size.
type limitWriter struct {
	t    *testing.T
	left int64
	n    int64
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > w.left {
		w.t.Fatalf("Patch wrote %d bytes with %d left of the new size", len(p), w.left)
	}
	w.left -= int64(len(p))
	w.n += int64(len(p))
	return len(p), nil
}

// FuzzPatch: any patch, any claimed new size: no panic, nothing past the
// new size, and a successful patch produces exactly the new size.
// Allocation is bounded by construction (two 64 KiB buffers at most);
// a claim of 2^40 bytes just fails when the patch runs out.
func FuzzPatch(f *testing.F) {
	f.Add([]byte("old data"), []byte{}, int64(0))
	f.Add([]byte("0123456789"), append(ctrl(3, 2, 1), 1, 2, 3, 'x', 'y'), int64(5))
	f.Add([]byte("abc"), ctrl(1<<31-1, 0, 0), int64(1<<40))
	f.Add([]byte{}, append(ctrl(0, 4, -1<<62), "abcd"...), int64(4))
	old := bytes.Repeat([]byte("abcdefgh"), 100)
	new := append(append([]byte{}, old[:300]...), old[350:]...)
	p, _ := DiffBytes(old, new)
	f.Add(old, p, int64(len(new)))
	f.Fuzz(func(t *testing.T, old, patch []byte, newSize int64) {
		if newSize < 0 {
			newSize = -newSize
		}
		w := &limitWriter{t: t, left: newSize}
		err := Patch(bytes.NewReader(old), int64(len(old)), patch, newSize, w)
		if err == nil && w.n != newSize {
			t.Fatalf("success with %d of %d bytes", w.n, newSize)
		}
	})
}

// FuzzRoundTrip: Diff then Patch gives back the new data.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("the quick brown fox"), []byte("the quick red fox jumps"))
	f.Add([]byte{}, []byte("x"))
	f.Fuzz(func(t *testing.T, old, new []byte) {
		p, err := DiffBytes(old, new)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := Patch(bytes.NewReader(old), int64(len(old)), p, int64(len(new)), &out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), new) {
			t.Fatal("round trip differs")
		}
	})
}
