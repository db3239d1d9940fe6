package repo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// TestReadersConform runs one body for every mode: what a transaction
// wrote comes back the same through ObjectReader, the bulk reader and the
// listings, and a missing object is ErrNotFound everywhere.
func TestReadersConform(t *testing.T) {
	ctx := context.Background()
	for _, m := range repotest.Modes {
		t.Run(m.String(), func(t *testing.T) {
			r := repotest.NewRepo(t, m)
			var reader repo.ObjectReader = r
			tx, err := r.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			big := strings.Repeat("grove ", 300_000) // > 1 MiB: the streaming and mapped paths
			payloads := []string{"", "small\n", big}
			var files []oid.Checksum
			for _, p := range payloads {
				files = append(files, writeFile(t, tx, p))
			}
			link, err := tx.WriteContent(ctx, &object.FileHeader{Mode: object.ModeLink | 0o777, SymlinkTarget: "../target"}, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			dm := (&object.DirMeta{Mode: 0o40755}).Marshal()
			meta, err := tx.WriteMeta(ctx, oid.DirMeta, dm)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}

			for i, sum := range files {
				c, err := reader.OpenContent(ctx, sum)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(c)
				c.Close()
				if err != nil || string(got) != payloads[i] || c.Size != int64(len(payloads[i])) {
					t.Errorf("payload %d: %d bytes (size %d), %v", i, len(got), c.Size, err)
				}
			}
			c, err := reader.OpenContent(ctx, link)
			if err != nil || c.Header.SymlinkTarget != "../target" || !c.Header.IsSymlink() {
				t.Fatalf("symlink: %+v, %v", c, err)
			}
			c.Close()
			if b, err := reader.ReadMeta(ctx, oid.DirMeta, meta); err != nil || !bytes.Equal(b, dm) {
				t.Errorf("ReadMeta: %x, %v", b, err)
			}
			missing := oid.Sum([]byte("nowhere"))
			if _, err := reader.OpenContent(ctx, missing); !errors.Is(err, repo.ErrNotFound) {
				t.Errorf("missing content: %v", err)
			}
			if _, err := reader.ReadMeta(ctx, oid.DirTree, missing); !errors.Is(err, repo.ErrNotFound) {
				t.Errorf("missing metadata: %v", err)
			}
			if ok, err := reader.HasObject(ctx, oid.ObjectName{Checksum: link, Type: oid.File}); !ok || err != nil {
				t.Errorf("HasObject: %v, %v", ok, err)
			}

			// Listings agree with what was written.
			var listed []oid.ObjectName
			if err := r.ListObjects(ctx, func(n oid.ObjectName) error { listed = append(listed, n); return nil }); err != nil {
				t.Fatal(err)
			}
			for _, sum := range append(files, link) {
				if !slices.Contains(listed, oid.ObjectName{Checksum: sum, Type: oid.File}) {
					t.Errorf("ListObjects lacks %s", sum)
				}
			}
			metas, err := r.ListObjectsOfType(ctx, oid.DirMeta)
			if err != nil || len(metas) != 1 || metas[0] != meta {
				t.Errorf("ListObjectsOfType(dirmeta) = %v, %v", metas, err)
			}

			// The bulk reader hashes what the checksums say, where it has
			// a fast path; elsewhere it gives up (false), never lies.
			d, err := r.OpenObjectDir()
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			br := d.NewBulkReader()
			h := sha256.New()
			for _, sum := range append(files, link) {
				name := oid.ObjectName{Checksum: sum, Type: oid.File}
				if !br.HashContent(name, br.Size(name), h) {
					if m == repo.ModeArchive || m == repo.ModeBareUser {
						t.Errorf("bulk reader gave up on %s", sum)
					}
					continue
				}
				if got := oid.Checksum(h.Sum(nil)); got != sum {
					t.Errorf("bulk hash of %s = %s", sum, got)
				}
			}
			if b, ok := br.ReadMeta(oid.ObjectName{Checksum: meta, Type: oid.DirMeta}); !ok || !bytes.Equal(b, dm) {
				t.Errorf("bulk ReadMeta: %x, %v", b, ok)
			}
		})
	}
}
