package repo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// TestArchiveWritesWithoutSecondHashAreReadByOstree stores objects through
// the paths that do not hash with SHA-256 again (trusted, verified by a
// cheap check, hashed from memory), in sizes around the writeback and
// buffer boundaries and empty, and has ostree fsck the repository and
// check every object out byte for byte.
func TestArchiveWritesWithoutSecondHashAreReadByOstree(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	tx, err := r.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	hdr := &object.FileHeader{Mode: object.ModeReg | 0o644}
	seed := maphash.MakeSeed()
	type obj struct {
		sum  oid.Checksum
		data []byte
	}
	var objs []obj
	for _, size := range []int{0, 1, 64<<10 - 1, 256<<10 - 1, 256 << 10, 256<<10 + 1, 1<<20 + 1, 5<<20 + 3} {
		for way := range 3 {
			data := benchPayload(size, uint64(size*3+way))
			sum, err := object.ContentChecksum(hdr, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			switch way {
			case 0:
				err = tx.WriteContentTrusted(ctx, sum, hdr, bytes.NewReader(data), int64(size))
			case 1:
				var h maphash.Hash
				h.SetSeed(seed)
				h.Write(data)
				want := h.Sum64()
				h.Reset()
				err = tx.WriteContentVerified(ctx, sum, hdr, bytes.NewReader(data), int64(size), &h, want)
			case 2:
				err = tx.WriteContentHashed(ctx, sum, hdr, data)
			}
			if err != nil {
				t.Fatalf("size %d, way %d: %v", size, way, err)
			}
			objs = append(objs, obj{sum, data})
		}
	}
	meta, err := tx.WriteMeta(ctx, oid.DirMeta, (&object.DirMeta{Mode: 0o40755}).Marshal())
	if err != nil {
		t.Fatal(err)
	}
	root := compose.NewTree(meta)
	for i, o := range objs {
		if err := root.SetFile(ctx, r, fmt.Sprint(i), o.sum); err != nil {
			t.Fatal(err)
		}
	}
	commit, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{Subject: "s", Branch: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	repotest.Ostree(t, "--repo="+r.Path(), "fsck")
	co := filepath.Join(t.TempDir(), "co")
	repotest.Ostree(t, "--repo="+r.Path(), "checkout", "-U", commit.String(), co)
	for i, o := range objs {
		got, err := os.ReadFile(filepath.Join(co, fmt.Sprint(i)))
		if err != nil || !bytes.Equal(got, o.data) {
			t.Errorf("object %d (%d bytes): ostree's checkout differs (%v)", i, len(o.data), err)
		}
	}
}

// TestWriteContentVerifiedRejectsChangedPayload gives the verified write a
// payload that differs from the one its check was computed over (a file
// changed between compose's two reads): nothing may be stored under the
// checksum of the first read.
func TestWriteContentVerifiedRejectsChangedPayload(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	tx, err := r.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hdr := &object.FileHeader{Mode: object.ModeReg | 0o644}
	first := benchPayload(2<<20, 7)
	sum, _ := object.ContentChecksum(hdr, bytes.NewReader(first))
	var h maphash.Hash
	h.Write(first)
	want := h.Sum64()
	second := bytes.Clone(first)
	second[1<<20] ^= 1
	err = tx.WriteContentVerified(ctx, sum, hdr, bytes.NewReader(second), int64(len(second)), &h, want)
	var ce *object.CorruptError
	if !errors.As(err, &ce) || ce.Name.Checksum != sum {
		t.Fatalf("changed payload: err = %v, want CorruptError naming %s", err, sum)
	}
	if err := tx.WriteContentVerified(ctx, sum, hdr, bytes.NewReader(first[:len(first)-1]), int64(len(first)), &h, want); err == nil {
		t.Fatal("shorter payload accepted")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.ObjectPath(oid.ObjectName{Checksum: sum, Type: oid.File})); !os.IsNotExist(err) {
		t.Fatalf("object stored after a failed check: %v", err)
	}
}

// BenchmarkArchiveWriteTrusted stores new .filez objects under a known
// checksum (pull-local's trusted path: deflate only, no SHA-256), for
// comparison with BenchmarkArchiveWrite.
func BenchmarkArchiveWriteTrusted(b *testing.B) {
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
			i := uint64(0)
			for b.Loop() {
				i++
				var sum oid.Checksum // a new name each time; nothing reads it back
				for k := range 8 {
					sum[k] = byte(i >> (8 * k))
				}
				if err := tx.WriteContentTrusted(ctx, sum, hdr, bytes.NewReader(payload), int64(size)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestArchiveObjectsAre0644UnderAnyUmask writes archive objects under the
// usual umask and under 077: they are created 0644 without an fchmod when
// the umask allows it, and must be 0644 (as ostree makes them) either way.
func TestArchiveObjectsAre0644UnderAnyUmask(t *testing.T) {
	ctx := context.Background()
	for _, mask := range []int{0o022, 0o077} {
		old := syscall.Umask(mask)
		r := repotest.NewRepo(t, repo.ModeArchive)
		tx, err := r.Begin(ctx)
		if err != nil {
			syscall.Umask(old)
			t.Fatal(err)
		}
		sum, err := tx.WriteContent(ctx, &object.FileHeader{Mode: object.ModeReg | 0o600}, bytes.NewReader([]byte("x")), 1)
		if err == nil {
			err = tx.Commit(ctx)
		}
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(r.ObjectPath(oid.ObjectName{Checksum: sum, Type: oid.File}))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o644 {
			t.Errorf("umask %03o: object mode %v, want 0644", mask, st.Mode().Perm())
		}
	}
}
