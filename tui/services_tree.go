package tui

import (
	"context"

	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/views"
)

// ReadDir implements views.TreeSource.
func (s *Services) ReadDir(ctx context.Context, commit oid.Checksum, dir string) ([]views.TreeEntry, error) {
	root, err := inspect.Root(ctx, s.Repo, commit)
	if err != nil {
		return nil, err
	}
	d := root
	if dir != "" && dir != "/" {
		if d, err = inspect.Lookup(ctx, s.Repo, root, dir); err != nil {
			return nil, err
		}
	}
	children, err := inspect.Children(ctx, s.Repo, d)
	if err != nil {
		return nil, err
	}
	out := make([]views.TreeEntry, len(children))
	for i, e := range children {
		out[i] = treeEntry(e)
	}
	return out, nil
}

func treeEntry(e *inspect.Entry) views.TreeEntry {
	return views.TreeEntry{Name: e.Name, Path: e.Path, Mode: e.Mode, UID: e.UID, GID: e.GID, Size: e.Size,
		Target: e.Target, Xattrs: e.Xattrs, Checksum: e.Checksum, Tree: e.Tree}
}
