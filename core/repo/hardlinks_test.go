package repo_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"golang.org/x/sys/unix"
)

// TestScanHardlinksMatchesStat checks the devino map (built from getdents'
// inode numbers) against lstat of every content object.
func TestScanHardlinksMatchesStat(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeBareUser)
	tx, err := r.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sums []oid.Checksum
	for i := 0; i < 50; i++ {
		body := fmt.Sprintf("file %d\n", i)
		sum, err := tx.WriteContent(ctx, &object.FileHeader{Mode: 0o100644}, strings.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, sum)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := r.ScanHardlinks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != len(sums) {
		t.Fatalf("%d objects mapped, want %d", len(m), len(sums))
	}
	for _, sum := range sums {
		var st unix.Stat_t
		if err := unix.Lstat(r.ObjectPath(oid.ObjectName{Checksum: sum, Type: oid.File}), &st); err != nil {
			t.Fatal(err)
		}
		if got, ok := m[repo.DevIno{Dev: st.Dev, Ino: st.Ino}]; !ok || got != sum {
			t.Errorf("inode of %s maps to %s (%v)", sum, got, ok)
		}
	}
}
