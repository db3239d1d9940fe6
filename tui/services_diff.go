package tui

import (
	"context"
	"errors"
	"io"

	"github.com/groveos/grove/core/diff"
	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/views"
)

// MaxDiffBytes bounds each side of a content diff held in memory.
var MaxDiffBytes int64 = 8 << 20

// DiffCommits implements views.DiffSource over core/diff.
func (s *Services) DiffCommits(ctx context.Context, from, to oid.Checksum) ([]views.DiffEntry, error) {
	a, err := diff.Commit(ctx, s.Repo, from)
	if err != nil {
		return nil, err
	}
	b, err := diff.Commit(ctx, s.Repo, to)
	if err != nil {
		return nil, err
	}
	res, err := diff.Diff(ctx, a, b, diff.DefaultOptions())
	if err != nil {
		return nil, err
	}
	var out []views.DiffEntry
	add := func(kind byte, items []diff.Item) {
		for _, it := range items {
			out = append(out, views.DiffEntry{Kind: kind, Path: it.Path, Old: it.Old, New: it.New,
				Dir: (kind == 'D' && it.OldDir) || (kind != 'D' && it.NewDir)})
		}
	}
	add('M', res.Modified)
	add('D', res.Removed)
	add('A', res.Added)
	return out, nil
}

// DiffFile implements views.DiffSource: each side's payload (a symlink's
// target as text), nil where the path does not exist.
func (s *Services) DiffFile(ctx context.Context, from, to oid.Checksum, p string) (views.FileDiffData, error) {
	var d views.FileDiffData
	var err error
	if d.Old, d.OldSize, err = s.sideBytes(ctx, from, p); err != nil {
		return d, err
	}
	if d.New, d.NewSize, err = s.sideBytes(ctx, to, p); err != nil {
		return d, err
	}
	d.TooLarge = d.OldSize > MaxDiffBytes || d.NewSize > MaxDiffBytes
	if d.TooLarge {
		d.Old, d.New = nil, nil
	}
	return d, nil
}

func (s *Services) sideBytes(ctx context.Context, commit oid.Checksum, p string) ([]byte, int64, error) {
	root, err := inspect.Root(ctx, s.Repo, commit)
	if err != nil {
		return nil, 0, err
	}
	e, err := inspect.Lookup(ctx, s.Repo, root, p)
	if errors.Is(err, inspect.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if e.IsSymlink() {
		return []byte("symlink → " + e.Target + "\n"), int64(len(e.Target)), nil
	}
	if e.IsDir() {
		return nil, 0, nil
	}
	if e.Size > MaxDiffBytes {
		return nil, e.Size, nil
	}
	c, err := s.Repo.OpenContent(ctx, e.Checksum)
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	b, err := io.ReadAll(io.LimitReader(c, MaxDiffBytes+1))
	return b, e.Size, err
}
