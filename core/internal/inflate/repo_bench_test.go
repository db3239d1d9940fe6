package inflate

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/groveos/grove/core/object"
)

// BenchmarkInflateRepo inflates every .filez payload of the archive
// repository $GROVE_FSCK_BENCH_ARCHIVE from memory (no hashing).
func BenchmarkInflateRepo(b *testing.B) {
	p := os.Getenv("GROVE_FSCK_BENCH_ARCHIVE")
	if p == "" {
		b.Skip("GROVE_FSCK_BENCH_ARCHIVE not set")
	}
	files, _ := filepath.Glob(filepath.Join(p, "objects", "*", "*.filez"))
	type obj struct {
		z    []byte
		size int64
	}
	var objs []obj
	var total int64
	for _, f := range files {
		b0, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		n := 8 + int(binary.BigEndian.Uint32(b0))
		hdr, size, err := object.ReadArchiveHeader(bytes.NewReader(b0[:n]))
		if err != nil || hdr.IsSymlink() {
			continue
		}
		objs = append(objs, obj{b0[n:], int64(size)})
		total += int64(size)
	}
	f := &Inflater{}
	b.SetBytes(total)
	for b.Loop() {
		for _, o := range objs {
			if err := f.Inflate(o.z, o.size, 256<<10, func([]byte) {}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
