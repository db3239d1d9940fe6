package repo

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestParallelDeflateIsOneStream compresses inputs around the chunk size
// on every core and inflates them with Go's standard inflater (a different
// implementation from the compressor's): the bytes and the hash must be
// those of the input, and a file that grows or shrinks is refused.
func TestParallelDeflateIsOneStream(t *testing.T) {
	r := &Repo{zlibLevel: 6}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{parallelDeflateChunk - 1, parallelDeflateChunk, parallelDeflateChunk + 1,
		3*parallelDeflateChunk + 12345, parallelDeflateMin, 9 * parallelDeflateChunk} {
		var b strings.Builder
		for b.Len() < size {
			fmt.Fprintf(&b, "line %d %x\n", rng.IntN(1000), rng.Uint32()) // compressible, with long matches
		}
		in := []byte(b.String()[:size])
		var out bytes.Buffer
		h := sha256.New()
		if err := r.deflateParallel(&out, h, bytes.NewReader(in), int64(size)); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(flate.NewReader(&out))
		if err != nil || !bytes.Equal(got, in) {
			t.Fatalf("%d bytes: inflated %d bytes, equal %v, err %v", size, len(got), bytes.Equal(got, in), err)
		}
		if want := sha256.Sum256(in); !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("%d bytes: hash differs", size)
		}
		if out.Len() > size/3 {
			t.Errorf("%d bytes compressed to %d: the preset dictionaries are not working", size, out.Len())
		}
		for _, wrong := range []int64{int64(size) - 1, int64(size) + 1} {
			err := r.deflateParallel(io.Discard, sha256.New(), bytes.NewReader(in), wrong)
			if err == nil {
				t.Errorf("%d bytes read as %d: no error", size, wrong)
			}
		}
	}
}
