package bsdiff_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/groveos/grove/core/bsdiff"
	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/delta/deltatest"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// Known answers from the reference: the bsdiff patches inside a delta
// ostree generated (its B opcodes) applied with Patch to the old file
// give exactly the new file, checked against the object's checksum.
func TestOstreePatchesApply(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 0)
	dir := t.TempDir()
	sbPath := filepath.Join(dir, "superblock")
	repotest.Ostree(t, "--repo="+p.Repo, "static-delta", "generate", "--from="+p.From, "--to="+p.To, "--filename="+sbPath)
	ctx := context.Background()
	r, err := repo.Open(ctx, p.Repo)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(sbPath)
	sb, _, err := delta.ParseFile(data)
	if err != nil {
		t.Fatal(err)
	}
	patched := 0
	for i, h := range sb.Parts {
		file, err := os.ReadFile(filepath.Join(dir, string(rune('0'+i))))
		if err != nil {
			t.Fatal(err)
		}
		pl, err := delta.OpenPart(file, &h.Checksum, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := delta.Parse(pl, h.Objects)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range prog.Steps {
			if len(st.Segments) != 1 || st.Segments[0].Kind != delta.Patch {
				continue
			}
			seg := st.Segments[0]
			old := readPayload(t, r, seg.Source)
			var out bytes.Buffer
			if err := bsdiff.Patch(bytes.NewReader(old), int64(len(old)), pl.Blob[seg.Off:seg.Off+seg.Size], int64(st.Size), &out); err != nil {
				t.Fatalf("%s: %v", st.Object, err)
			}
			m := pl.Modes[st.Mode]
			sum, err := object.ContentChecksum(&object.FileHeader{UID: m.UID, GID: m.GID, Mode: m.Mode, Xattrs: pl.Xattrs[st.Xattrs]}, &out)
			if err != nil {
				t.Fatal(err)
			}
			if sum != st.Object.Checksum {
				t.Fatalf("patched %s hashes to %s", st.Object, sum)
			}
			patched++
		}
	}
	if patched == 0 {
		t.Fatal("ostree's delta has no bsdiff patch to check")
	}
}

func readPayload(t *testing.T, r *repo.Repo, sum oid.Checksum) []byte {
	t.Helper()
	c, err := r.OpenContent(context.Background(), sum)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
