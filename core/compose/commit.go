package compose

import (
	"context"
	"fmt"
	"time"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// CommitOptions describe the commit object written by WriteCommit.
type CommitOptions struct {
	Subject, Body string
	// Parent is the parent commit; zero writes a root commit.
	Parent oid.Checksum
	// Timestamp defaults to now.
	Timestamp time.Time
	// Metadata is the commit's a{sv}, in the order it is to be hashed.
	Metadata []gvariant.DictEntry
	// Detached is written as the commit's .commitmeta when not nil.
	Detached []gvariant.DictEntry
	// Branch, when set, is pointed at the new commit after the objects are in place.
	Branch string
	// SkipIfUnchanged returns the parent instead of writing a commit whose
	// root equals the parent's.
	SkipIfUnchanged bool

	sign func(ctx context.Context, commit []byte, detached []gvariant.DictEntry) ([]gvariant.DictEntry, error)
}

// WriteCommit writes root's dirtrees and the commit object into tx, and
// stages the branch update. It returns the commit checksum and whether
// a new commit was written (false with SkipIfUnchanged and no change).
func WriteCommit(ctx context.Context, tx *repo.Txn, root *Tree, opts CommitOptions) (oid.Checksum, bool, error) {
	tree, err := root.Write(ctx, tx)
	if err != nil {
		return oid.Checksum{}, false, err
	}
	if opts.SkipIfUnchanged && !opts.Parent.IsZero() {
		p, err := tx.Repo().LoadCommit(ctx, opts.Parent)
		if err != nil {
			return oid.Checksum{}, false, err
		}
		if p.RootTree == tree && p.RootMeta == root.Meta {
			return opts.Parent, false, nil
		}
	}
	ts := opts.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	c := &object.Commit{
		Metadata:  opts.Metadata,
		Parent:    opts.Parent,
		Subject:   opts.Subject,
		Body:      opts.Body,
		Timestamp: uint64(ts.Unix()),
		RootTree:  tree,
		RootMeta:  root.Meta,
	}
	data := c.Marshal()
	sum, err := tx.WriteMeta(ctx, oid.Commit, data)
	if err != nil {
		return sum, false, err
	}
	detached := opts.Detached
	if opts.sign != nil {
		if detached, err = opts.sign(ctx, data, detached); err != nil {
			return sum, false, err
		}
	}
	if detached != nil {
		if err := tx.WriteCommitMeta(ctx, sum, object.MarshalMeta(detached)); err != nil {
			return sum, false, err
		}
	}
	if opts.Branch != "" {
		if err := tx.SetRef("", opts.Branch, sum); err != nil {
			return sum, false, fmt.Errorf("compose: %w", err)
		}
	}
	return sum, true, nil
}

// TreeFromCommit returns a tree standing for a commit's root (for
// --tree=ref= and for amending).
func TreeFromCommit(ctx context.Context, r *repo.Repo, commit oid.Checksum) (*Tree, error) {
	c, err := r.LoadCommit(ctx, commit)
	if err != nil {
		return nil, err
	}
	return TreeFrom(c.RootTree, c.RootMeta), nil
}
