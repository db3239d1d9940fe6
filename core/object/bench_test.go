package object

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkContentChecksum hashes a file's header and payload, the work
// every commit and fsck does per content object.
func BenchmarkContentChecksum(b *testing.B) {
	h := &FileHeader{Mode: 0o100644}
	for _, size := range []int{4 << 10, 1 << 20, 16 << 20} {
		payload := bytes.Repeat([]byte("grove content "), size/14+1)[:size]
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := ContentChecksum(h, bytes.NewReader(payload)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
