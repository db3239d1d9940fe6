package loose

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/oid"
)

// IsFsckPartial reports whether a commit was marked partial by fsck (the
// marker holds the single byte "f", like OSTREE_REPO_COMMIT_STATE_FSCK_PARTIAL).
func (s *Store) IsFsckPartial(commit oid.Checksum) bool {
	b, err := os.ReadFile(s.partialPath(commit))
	return err == nil && bytes.Equal(b, []byte("f"))
}

// MarkFsckPartial marks a commit partial because fsck found objects of it
// missing or corrupt.
func (s *Store) MarkFsckPartial(commit oid.Checksum) error {
	p := s.partialPath(commit)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(p, []byte("f"), 0o644, s.fsync)
}

// WriteTombstone records that commit was deleted (core.tombstone-commits):
// objects/XX/REST.tombstone-commit holding {'commit': <b"HEX">}.
func (s *Store) WriteTombstone(ctx context.Context, commit oid.Checksum, data []byte) error {
	p := s.ObjectPath(oid.ObjectName{Checksum: commit, Type: oid.TombstoneCommit})
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(p, data, 0o644, s.fsync); err != nil {
		return fmt.Errorf("repo: tombstone %s: %w", commit, err)
	}
	return nil
}
