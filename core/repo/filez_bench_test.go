package repo_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// benchPayload is compressible like program files are: words from a small
// vocabulary with some noise.
func benchPayload(size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	words := []string{"ELF", "\x00\x00\x00\x00", "libc.so.6", "main", "GLIBC_2.34", "__cxa_finalize", "\x7f\x45", "text", "data"}
	var buf bytes.Buffer
	for buf.Len() < size {
		buf.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(4) == 0 {
			binary.Write(&buf, binary.LittleEndian, rng.Uint32())
		}
	}
	return buf.Bytes()[:size]
}

var benchSizes = []int{4 << 10, 1 << 20, 16 << 20}

// BenchmarkArchiveWrite stores new .filez objects (hash and deflate at
// ostree's level) in an archive repository's transaction.
func BenchmarkArchiveWrite(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			r := repotest.NewRepo(b, repo.ModeArchive)
			tx, err := r.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer tx.Abort()
			payload := benchPayload(size, 1)
			hdr := &object.FileHeader{Mode: 0o100644}
			b.SetBytes(int64(size))
			i := uint32(0)
			for b.Loop() {
				i++
				binary.LittleEndian.PutUint32(payload, i) // a new object each time
				if _, err := tx.WriteContent(ctx, hdr, bytes.NewReader(payload), int64(size)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkArchiveRead inflates a stored .filez object.
func BenchmarkArchiveRead(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			r := repotest.NewRepo(b, repo.ModeArchive)
			tx, err := r.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			sum, err := tx.WriteContent(ctx, &object.FileHeader{Mode: 0o100644}, bytes.NewReader(benchPayload(size, 2)), int64(size))
			if err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			for b.Loop() {
				readAll(b, ctx, r, sum)
			}
		})
	}
}

func readAll(b *testing.B, ctx context.Context, r *repo.Repo, sum oid.Checksum) {
	c, err := r.OpenContent(ctx, sum)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if n, err := io.Copy(io.Discard, c); err != nil || n != c.Size {
		b.Fatalf("read %d of %d bytes: %v", n, c.Size, err)
	}
}
