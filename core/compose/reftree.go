package compose

import (
	"context"
	"fmt"
	"io"

	"github.com/groveos/grove/core/mtree"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// TreeFromCommitModified is TreeFromCommit with the modifier applied to
// every entry, as `ostree commit --tree=ref=` does whenever an option
// touches metadata (owner, canonical permissions, statoverride, skip-list,
// no-xattrs, or a bare-user-only repository): ownership, modes and xattrs
// are recomputed from each object, skipped paths are left out, and content
// whose header changes is stored again under its new checksum. With a
// modifier that changes nothing the commit's trees are reused as they are.
func TreeFromCommitModified(ctx context.Context, tx *repo.Txn, commit oid.Checksum, mod *Modifier) (*Tree, error) {
	r := tx.Repo()
	if mod == nil || !touchesMetadata(mod, r) {
		return TreeFromCommit(ctx, r, commit)
	}
	c, err := r.LoadCommit(ctx, commit)
	if err != nil {
		return nil, err
	}
	return modifiedTree(ctx, tx, r, c.RootTree, c.RootMeta, "/", mod)
}

// touchesMetadata reports whether the modifier can change any entry.
func touchesMetadata(m *Modifier, r *repo.Repo) bool {
	return m.OwnerUID >= 0 || m.OwnerGID >= 0 || m.Canonical(r) || m.SkipXattrsIn(r) ||
		len(m.ModeAdd) > 0 || len(m.ModeSet) > 0 || len(m.Skip) > 0
}

func modifiedTree(ctx context.Context, tx *repo.Txn, r *repo.Repo, tree, meta oid.Checksum, path string, mod *Modifier) (*Tree, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dm, err := r.LoadDirMeta(ctx, meta)
	if err != nil {
		return nil, fmt.Errorf("compose: %s: %w", path, err)
	}
	nm := &object.DirMeta{UID: dm.UID, GID: dm.GID, Mode: dm.Mode, Xattrs: dm.Xattrs}
	mod.Apply(r, path, &nm.UID, &nm.GID, &nm.Mode)
	if mod.SkipXattrsIn(r) {
		nm.Xattrs = nil
	}
	metaSum, err := tx.WriteMeta(ctx, oid.DirMeta, nm.Marshal())
	if err != nil {
		return nil, err
	}
	dt, err := r.LoadDirTree(ctx, tree)
	if err != nil {
		return nil, fmt.Errorf("compose: %s: %w", path, err)
	}
	t := mtree.NewSized(metaSum, len(dt.Files), len(dt.Dirs))
	for _, f := range dt.Files {
		p := mtree.Join(path, f.Name)
		sum, keep, err := modifiedFile(ctx, tx, r, f.Checksum, p, mod)
		if err != nil {
			return nil, err
		}
		if keep {
			t.PutFile(f.Name, sum)
		}
	}
	for _, d := range dt.Dirs {
		p := mtree.Join(path, d.Name)
		if mod.Skip[p] {
			mod.Apply(r, p, new(uint32), new(uint32), new(uint32)) // marks the entry used
			continue
		}
		sub, err := modifiedTree(ctx, tx, r, d.Tree, d.Meta, p, mod)
		if err != nil {
			return nil, err
		}
		t.PutDir(d.Name, sub)
	}
	return t, nil
}

// modifiedFile applies the modifier to one content object; keep is false
// for a skipped path.
func modifiedFile(ctx context.Context, tx *repo.Txn, r *repo.Repo, sum oid.Checksum, path string, mod *Modifier) (oid.Checksum, bool, error) {
	c, err := r.OpenContent(ctx, sum)
	if err != nil {
		return sum, false, fmt.Errorf("compose: %s: %w", path, err)
	}
	defer c.Close()
	hdr := *c.Header
	if mod.Apply(r, path, &hdr.UID, &hdr.GID, &hdr.Mode) {
		return sum, false, nil
	}
	if mod.SkipXattrsIn(r) {
		hdr.Xattrs = nil
	}
	old := c.Header
	if hdr.UID == old.UID && hdr.GID == old.GID && hdr.Mode == old.Mode && object.XattrsEqual(hdr.Xattrs, old.Xattrs) {
		return sum, true, nil // the object a rewrite would produce
	}
	var payload io.Reader = c
	if hdr.IsSymlink() {
		payload = nil
	}
	newSum, err := tx.WriteContent(ctx, &hdr, payload, c.Size)
	if err != nil {
		return sum, false, fmt.Errorf("compose: %s: %w", path, err)
	}
	return newSum, true, nil
}
