package culprit

import (
	"context"
	"errors"

	"github.com/groveos/grove/core/diff"
	"github.com/groveos/grove/core/dpkgdb"
	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Kinds of change, as ostree diff prints them.
const (
	Modified = 'M'
	Removed  = 'D'
	Added    = 'A'
)

// File is one changed path.
type File struct {
	Kind byte // Modified, Removed or Added
	Path string
	// Dir is true for directories (on the new side, for modified ones).
	Dir bool
	// OldSize and NewSize are payload sizes of regular files, -1 where
	// there is no file on that side (or it is a directory).
	OldSize, NewSize int64
}

// Report is what changed between the last good and the first bad commit.
type Report struct {
	FirstBad, LastGood oid.Checksum
	Commit, Good       *object.Commit
	// Files are the differences in ostree diff's order: modified, removed,
	// added.
	Files                     []File
	NAdded, NRemoved, NModify int
	// Packages are the package changes; nil when neither tree has a dpkg
	// database.
	Packages *dpkgdb.Diff
	// PackagesErr is why Packages could not be read (a malformed
	// database); the rest of the report stands.
	PackagesErr error
}

// Build compares lastGood with firstBad.
func Build(ctx context.Context, r *repo.Repo, lastGood, firstBad oid.Checksum) (*Report, error) {
	rep := &Report{FirstBad: firstBad, LastGood: lastGood}
	var err error
	if rep.Commit, err = r.LoadCommit(ctx, firstBad); err != nil {
		return nil, err
	}
	if rep.Good, err = r.LoadCommit(ctx, lastGood); err != nil {
		return nil, err
	}
	a, err := diff.Commit(ctx, r, lastGood)
	if err != nil {
		return nil, err
	}
	b, err := diff.Commit(ctx, r, firstBad)
	if err != nil {
		return nil, err
	}
	res, err := diff.Diff(ctx, a, b, diff.DefaultOptions())
	if err != nil {
		return nil, err
	}
	var roots [2]*inspect.Entry
	size := func(side int, sum oid.Checksum, path string, dir bool) int64 {
		if dir {
			return -1
		}
		if sum.IsZero() { // a type change: look the path up
			c := []oid.Checksum{lastGood, firstBad}[side]
			if roots[side] == nil {
				if roots[side], err = inspect.Root(ctx, r, c); err != nil {
					return -1
				}
			}
			e, err := inspect.Lookup(ctx, r, roots[side], path)
			if err != nil || e.IsDir() || e.IsSymlink() {
				return -1
			}
			return e.Size
		}
		c, err := r.OpenContent(ctx, sum)
		if err != nil {
			return -1
		}
		c.Close()
		if c.Header.SymlinkTarget != "" {
			return -1
		}
		return c.Size
	}
	for _, it := range res.Modified {
		rep.Files = append(rep.Files, File{Kind: Modified, Path: it.Path, Dir: it.NewDir,
			OldSize: size(0, it.Old, it.Path, it.OldDir), NewSize: size(1, it.New, it.Path, it.NewDir)})
	}
	for _, it := range res.Removed {
		rep.Files = append(rep.Files, File{Kind: Removed, Path: it.Path, Dir: it.OldDir, OldSize: size(0, it.Old, it.Path, it.OldDir), NewSize: -1})
	}
	for _, it := range res.Added {
		rep.Files = append(rep.Files, File{Kind: Added, Path: it.Path, Dir: it.NewDir, OldSize: -1, NewSize: size(1, it.New, it.Path, it.NewDir)})
	}
	rep.NModify, rep.NRemoved, rep.NAdded = len(res.Modified), len(res.Removed), len(res.Added)
	pk, err := dpkgdb.DiffCommits(ctx, r, lastGood, firstBad)
	switch {
	case errors.Is(err, dpkgdb.ErrNoDatabase):
	case err != nil:
		rep.PackagesErr = err
	default:
		rep.Packages = pk
	}
	return rep, nil
}
