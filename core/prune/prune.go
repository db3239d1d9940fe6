package prune

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/traverse"
)

// ErrReferenced is returned by DeleteCommit for a commit a ref points at.
var ErrReferenced = errors.New("prune: commit is referenced by a ref")

// Options mirror ostree prune's flags.
type Options struct {
	// RefsOnly computes reachability from refs only (--refs-only);
	// otherwise every commit object is a root.
	RefsOnly bool
	// Depth is how many parents of each root to keep (-1 = all).
	Depth int
	// NoPrune only counts (--no-prune).
	NoPrune bool
	// CommitOnly considers and deletes commit objects only (--commit-only).
	CommitOnly bool
	// KeepYoungerThan, when not zero, keeps for each ref its tip and the
	// unbroken run of ancestors at least this recent (--keep-younger-than).
	KeepYoungerThan time.Time
	// RetainBranchDepth overrides Depth for some refs (--retain-branch-depth).
	RetainBranchDepth map[string]int
	// OnlyBranches restricts pruning to these refs; the others keep their
	// whole history (--only-branch).
	OnlyBranches []string
}

// Result counts what Prune found, like ostree's summary lines.
type Result struct {
	Total  int    // objects considered
	Pruned int    // unreachable objects (deleted unless NoPrune)
	Freed  uint64 // their size on disk (st_size, as ostree counts)
	// Deleted lists the unreachable objects, sorted.
	Deleted []oid.ObjectName
}

// Prune deletes unreachable objects under the exclusive repository lock.
func Prune(ctx context.Context, r *repo.Repo, opts Options) (*Result, error) {
	unlock, err := r.LockExclusive(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	reachable, err := reachableSet(ctx, r, opts)
	if err != nil {
		return nil, err
	}
	var objects []oid.ObjectName
	if err := r.ListObjects(ctx, func(n oid.ObjectName) error {
		switch n.Type {
		case oid.Commit:
		case oid.File, oid.DirTree, oid.DirMeta, oid.PayloadLink:
			if opts.CommitOnly {
				return nil
			}
		default: // commitmeta and tombstones go with their commit
			return nil
		}
		objects = append(objects, n)
		return nil
	}); err != nil {
		return nil, err
	}
	traverse.SortNames(objects)
	res := &Result{Total: len(objects)}
	for _, n := range objects {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if reachable[n] {
			continue
		}
		if n.Type == oid.PayloadLink && payloadTargetReachable(r, n, reachable) {
			continue
		}
		size, err := r.StoredSize(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("prune: querying object %s: %w", n, err)
		}
		res.Freed += uint64(size)
		res.Pruned++
		res.Deleted = append(res.Deleted, n)
		if opts.NoPrune {
			continue
		}
		if err := deleteObject(ctx, r, n); err != nil {
			return nil, err
		}
	}
	if !opts.NoPrune {
		if err := pruneDeltas(r); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// reachableSet gathers the objects to keep, following ostree_repo_prune
// (plain options) or the builtin's refs walk (age, per-branch depth).
func reachableSet(ctx context.Context, r *repo.Repo, opts Options) (map[oid.ObjectName]bool, error) {
	topts := traverse.Options{CommitOnly: opts.CommitOnly}
	refs, err := r.ListRefs(ctx)
	if err != nil {
		return nil, err
	}
	advanced := !opts.KeepYoungerThan.IsZero() || len(opts.RetainBranchDepth) > 0 || len(opts.OnlyBranches) > 0
	if !advanced {
		var roots []oid.Checksum
		if opts.RefsOnly {
			for _, ref := range refs {
				roots = append(roots, ref.Checksum)
			}
		} else if err := r.ListObjects(ctx, func(n oid.ObjectName) error {
			if n.Type == oid.Commit {
				roots = append(roots, n.Checksum)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		set, err := traverse.ReachableSet(ctx, r, roots, opts.Depth, topts)
		if err != nil {
			return nil, err
		}
		return set.Objects, nil
	}

	depths := map[string]int{}
	for k, v := range opts.RetainBranchDepth {
		depths[k] = v
	}
	if len(opts.OnlyBranches) > 0 {
		only := map[string]bool{}
		for _, b := range opts.OnlyBranches {
			if _, err := r.ResolveRev(ctx, b); err != nil {
				return nil, err
			}
			only[b] = true
		}
		for _, ref := range refs {
			spec := ref.Refspec()
			if _, ok := depths[spec]; !only[spec] && !ok {
				depths[spec] = -1
			}
		}
	}
	set := &traverse.Set{Objects: map[oid.ObjectName]bool{}}
	topts.Into = set
	for _, ref := range refs {
		depth, ok := depths[ref.Refspec()]
		if !ok && !opts.KeepYoungerThan.IsZero() {
			if err := keepYounger(ctx, r, ref.Checksum, opts.KeepYoungerThan, topts); err != nil {
				return nil, err
			}
			continue
		}
		if !ok {
			depth = opts.Depth
		}
		if _, err := traverse.ReachableSet(ctx, r, []oid.Checksum{ref.Checksum}, depth, topts); err != nil {
			return nil, err
		}
	}
	return set.Objects, nil
}

// keepYounger keeps the tip, then ancestors while they are at least as
// recent as t (a missing commit ends the chain).
func keepYounger(ctx context.Context, r *repo.Repo, tip oid.Checksum, t time.Time, topts traverse.Options) error {
	if _, err := traverse.ReachableSet(ctx, r, []oid.Checksum{tip}, 0, topts); err != nil {
		return err
	}
	next := tip
	for {
		ok, err := r.HasObject(ctx, oid.ObjectName{Checksum: next, Type: oid.Commit})
		if err != nil || !ok {
			return err
		}
		c, err := r.LoadCommit(ctx, next)
		if err != nil {
			return err
		}
		if int64(c.Timestamp) < t.Unix() {
			return nil
		}
		if _, err := traverse.ReachableSet(ctx, r, []oid.Checksum{next}, 0, topts); err != nil {
			return err
		}
		if !c.HasParent() {
			return nil
		}
		next = c.Parent
	}
}

// payloadTargetReachable keeps a payload link whose target file is kept
// (ostree also compares the target's size with the link threshold; a link
// only exists when the file was above it).
func payloadTargetReachable(r *repo.Repo, n oid.ObjectName, reachable map[oid.ObjectName]bool) bool {
	sum, err := r.PayloadLinkTarget(n)
	return err == nil && reachable[oid.ObjectName{Checksum: sum, Type: oid.File}]
}

func deleteObject(ctx context.Context, r *repo.Repo, n oid.ObjectName) error {
	if n.Type != oid.Commit {
		return r.DeleteObject(ctx, n)
	}
	if err := r.MarkPartial(n.Checksum, false); err != nil {
		return fmt.Errorf("prune: %s: %w", n, err)
	}
	if err := r.DeleteObject(ctx, oid.ObjectName{Checksum: n.Checksum, Type: oid.CommitMeta}); err != nil {
		return err
	}
	if err := r.DeleteObject(ctx, n); err != nil {
		return err
	}
	tomb, err := r.Config().Bool("core", "tombstone-commits", false)
	if err != nil {
		return fmt.Errorf("prune: core.tombstone-commits: %w", err)
	}
	if tomb {
		return r.WriteTombstone(ctx, n.Checksum, Tombstone(n.Checksum))
	}
	return nil
}

// Tombstone is the a{sv} ostree writes for a deleted commit:
// {'commit': <b'HEX'>} (a NUL-terminated bytestring).
func Tombstone(commit oid.Checksum) []byte {
	return object.MarshalMeta([]gvariant.DictEntry{{
		Key: "commit", Value: gvariant.NewVariant("ay", append([]byte(commit.String()), 0)),
	}})
}

// DeleteCommit deletes one commit object (prune --delete-commit): refused
// when a ref points at it; it turns core.tombstone-commits on and leaves a
// tombstone, as ostree does. The commit's tree goes with the next Prune.
func DeleteCommit(ctx context.Context, r *repo.Repo, commit oid.Checksum) error {
	unlock, err := r.LockExclusive(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	refs, err := r.ListRefs(ctx)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		if ref.Checksum == commit {
			return fmt.Errorf("%w: Commit '%s' is referenced by '%s'", ErrReferenced, commit, ref.Refspec())
		}
	}
	if on, _ := r.Config().Bool("core", "tombstone-commits", false); !on {
		kf := r.Config()
		kf.Set("core", "tombstone-commits", "true")
		if err := r.SaveConfig(ctx, kf); err != nil {
			return err
		}
	}
	n := oid.ObjectName{Checksum: commit, Type: oid.Commit}
	if ok, err := r.HasObject(ctx, n); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %s", repo.ErrNotFound, n)
	}
	return deleteObject(ctx, r, n)
}

// pruneDeltas removes static deltas whose target commit is gone.
func pruneDeltas(r *repo.Repo) error {
	root := filepath.Join(r.Path(), "deltas")
	prefixes, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("prune: deltas: %w", err)
	}
	for _, p := range prefixes {
		ents, err := os.ReadDir(filepath.Join(root, p.Name()))
		if err != nil {
			continue
		}
		for _, e := range ents {
			name := p.Name() + e.Name()
			to := name
			if i := strings.IndexByte(name, '-'); i >= 0 {
				to = name[i+1:]
			}
			sum, err := oid.ParseModifiedBase64(to)
			if err != nil {
				continue
			}
			if ok, _ := r.HasObject(context.Background(), oid.ObjectName{Checksum: sum, Type: oid.Commit}); ok {
				continue
			}
			if err := os.RemoveAll(filepath.Join(root, p.Name(), e.Name())); err != nil {
				return fmt.Errorf("prune: delta %s: %w", name, err)
			}
		}
	}
	return nil
}
