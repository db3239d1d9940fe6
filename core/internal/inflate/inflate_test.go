package inflate

import (
	"bytes"
	stdflate "compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// payloads are inputs shaped like the files of an OS tree, plus the edge
// cases of DEFLATE: empty, runs (distance 1 and short overlaps), random
// bytes (stored blocks), long text.
func payloads() map[string][]byte {
	rng := rand.New(rand.NewPCG(7, 7))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var text bytes.Buffer
	words := []string{"ELF", "\x00\x00\x00\x00", "libc.so.6", "main", "GLIBC_2.34", "\n", " ", "Package: ", "Version: 1.2-3\n"}
	for text.Len() < 3<<20 {
		text.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(5) == 0 {
			binary.Write(&text, binary.LittleEndian, rng.Uint32()&0x0f0f0f0f)
		}
	}
	runs := bytes.Repeat([]byte("a"), 100000)
	runs = append(runs, bytes.Repeat([]byte("abc"), 50000)...)
	runs = append(runs, bytes.Repeat([]byte("0123456789abcdefg"), 9000)...)
	return map[string][]byte{
		"empty":  nil,
		"byte":   {42},
		"small":  []byte("#!/bin/sh\necho hello\n"),
		"random": random,
		"text":   text.Bytes(),
		"runs":   runs,
		"mixed":  append(append([]byte{}, random[:70000]...), text.Bytes()[:200000]...),
	}
}

func compressStd(t testing.TB, b []byte, level int) []byte {
	var buf bytes.Buffer
	w, err := stdflate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func compressK(t testing.TB, b []byte, level int) []byte {
	var buf bytes.Buffer
	w, err := kflate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func inflateAll(f *Inflater, src []byte, size int64, bufSize int) ([]byte, error) {
	// The decoder writes through unsafe pointers: guard bytes past the
	// buffer's capacity catch any write out of bounds.
	const guard = 4096
	n := bufSize + window
	mem := make([]byte, n+guard)
	for i := n; i < len(mem); i++ {
		mem[i] = 0xa5
	}
	f.buf = mem[:n:n]
	var out []byte
	err := f.Inflate(src, size, bufSize, func(p []byte) { out = append(out, p...) })
	for i := n; i < len(mem); i++ {
		if mem[i] != 0xa5 {
			panic(fmt.Sprintf("inflate wrote past its buffer at +%d", i-n))
		}
	}
	return out, err
}

func TestInflateMatchesOtherDecoders(t *testing.T) {
	f := &Inflater{}
	for name, p := range payloads() {
		for _, level := range []int{stdflate.HuffmanOnly, stdflate.NoCompression, 1, 6, 9} {
			for _, z := range [][]byte{compressStd(t, p, level), compressK(t, p, level)} {
				// A small buffer makes the window slide many times.
				for _, bs := range []int{64 << 10, 4 << 20} {
					got, err := inflateAll(f, z, int64(len(p)), bs)
					if err != nil {
						t.Fatalf("%s level %d buf %d: %v", name, level, bs, err)
					}
					if !bytes.Equal(got, p) {
						t.Fatalf("%s level %d buf %d: output differs", name, level, bs)
					}
				}
				// A wrong declared size is an error, never a short read.
				if _, err := inflateAll(f, z, int64(len(p))+1, 64<<10); err == nil {
					t.Errorf("%s level %d: size+1 accepted", name, level)
				}
				if len(p) > 0 {
					if _, err := inflateAll(f, z, int64(len(p))-1, 64<<10); err == nil {
						t.Errorf("%s level %d: size-1 accepted", name, level)
					}
				}
				// Truncated input is an error.
				if len(z) > 2 {
					if _, err := inflateAll(f, z[:len(z)-2], int64(len(p)), 64<<10); err == nil {
						t.Errorf("%s level %d: truncated stream accepted", name, level)
					}
				}
			}
		}
	}
}

// Corrupted streams: whatever the fast decoder accepts, the reference
// decoder must accept and decode to the same bytes.
func TestInflateCorruptStreamsNeverDisagree(t *testing.T) {
	f := &Inflater{}
	rng := rand.New(rand.NewPCG(1, 2))
	ps := payloads()
	accepted := 0
	for _, name := range []string{"small", "text", "runs", "mixed"} {
		p := ps[name]
		if len(p) > 300<<10 {
			p = p[:300<<10]
		}
		z := compressK(t, p, 6)
		for range 300 {
			c := append([]byte{}, z...)
			for range 1 + rng.IntN(3) {
				c[rng.IntN(len(c))] ^= byte(1 << rng.IntN(8))
			}
			got, err := inflateAll(f, c, int64(len(p)), 64<<10)
			if err != nil {
				continue
			}
			accepted++
			want, rerr := io.ReadAll(kflate.NewReader(bytes.NewReader(c)))
			if rerr != nil && !bytes.Equal(want, got) {
				t.Fatalf("%s: fast decoder accepted what klauspost refuses (%v)", name, rerr)
			}
			if !bytes.Equal(want[:min(len(want), len(got))], got) {
				t.Fatalf("%s: outputs differ", name)
			}
		}
	}
	t.Logf("%d corrupted streams decoded to the declared size", accepted)
}

func FuzzInflate(f *testing.F) {
	for _, p := range [][]byte{nil, []byte("hello hello hello"), bytes.Repeat([]byte{1, 2, 3}, 100)} {
		f.Add(compressK(f, p, 6), uint16(len(p)))
		f.Add(compressStd(f, p, 0), uint16(len(p)))
	}
	inf := &Inflater{}
	f.Fuzz(func(t *testing.T, z []byte, size uint16) {
		got, err := inflateAll(inf, z, int64(size), 64<<10)
		if err != nil {
			return
		}
		want, rerr := io.ReadAll(io.LimitReader(stdflate.NewReader(bytes.NewReader(z)), int64(size)+1))
		if len(want) < len(got) || !bytes.Equal(want[:len(got)], got) {
			t.Fatalf("fast decoder gave %d bytes, compress/flate %d (%v)", len(got), len(want), rerr)
		}
	})
}

func BenchmarkInflate(b *testing.B) {
	p := payloads()["text"]
	z := compressK(b, p, 6)
	b.Run("fast", func(b *testing.B) {
		f := &Inflater{}
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			if err := f.Inflate(z, int64(len(p)), 1<<20, func([]byte) {}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		zr := kflate.NewReader(bytes.NewReader(z))
		buf := make([]byte, 256<<10)
		b.SetBytes(int64(len(p)))
		for b.Loop() {
			zr.(kflate.Resetter).Reset(bytes.NewReader(z), nil)
			if _, err := io.CopyBuffer(io.Discard, zr, buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
