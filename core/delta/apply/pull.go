package apply

import (
	"context"
	"fmt"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// PullRequest is what a pull asks of deltas for one commit: the remote's
// files, what its summary lists, and the client's current commit for the
// ref being pulled.
type PullRequest struct {
	Files FileReader
	// NotFound tells a missing remote file (404) from a failure.
	NotFound func(error) bool
	// Listed are the deltas of the summary's ostree.static-deltas (nil
	// without a summary). Indexed says the remote publishes
	// delta-indexes/ (summary ostree.summary.indexed-deltas, or
	// indexed-deltas in its config); the index for To is then read
	// instead.
	Listed  []delta.IndexEntry
	Indexed bool
	// HaveSummary says Listed came from a summary; without one (and no
	// index) the superblock is probed directly, as ostree does.
	HaveSummary bool
	From        oid.Checksum // the client's commit for the ref; zero if none
	To          oid.Checksum
}

// Pull tries to bring req.To into tx through a static delta
// (ostree-format.md §5.4): the delta from the client's current commit if
// the remote lists one and the client has that commit complete, or a
// scratch delta when the client has no commit for the ref. It returns
// false, and writes nothing, when no delta fits. Fallback objects are
// left to opts.Fallback (nil: the pull's walk after the delta fetches
// them). The superblock is checked against the listed digest.
func Pull(ctx context.Context, tx *repo.Txn, req PullRequest, opts Options) (bool, error) {
	r := tx.Repo()
	haveFrom := false
	if !req.From.IsZero() {
		ok, err := tx.Has(ctx, oid.ObjectName{Checksum: req.From, Type: oid.Commit})
		if err != nil {
			return false, err
		}
		haveFrom = ok && !r.IsPartial(req.From)
	}
	listed := req.Listed
	if req.Indexed {
		b, err := req.Files.ReadFile(ctx, delta.IndexPath(req.To), 16<<20)
		switch {
		case err == nil:
			if listed, err = delta.ParseIndex(b); err != nil {
				return false, err
			}
		case req.NotFound != nil && req.NotFound(err):
			listed = nil
		default:
			return false, fmt.Errorf("delta index for %s: %w", req.To, err)
		}
	}
	var choice Choice
	ok := false
	if req.Indexed || req.HaveSummary {
		choice, ok = Select(listed, req.From, req.To, haveFrom)
	} else {
		// No summary, no index: probe the superblock itself.
		choice = Choice{Name: delta.Name{To: req.To}}
		if haveFrom {
			choice.Name.From = req.From
		} else if !req.From.IsZero() {
			return false, nil
		}
		ok = true
	}
	if !ok {
		return false, nil
	}
	src := &Remote{Files: req.Files, Name: choice.Name}
	o := opts
	o.Digest = choice.Digest
	d, err := Open(ctx, src, o)
	if err != nil {
		if !req.Indexed && !req.HaveSummary && req.NotFound != nil && req.NotFound(err) {
			return false, nil
		}
		return false, err
	}
	if d.Superblock.To != req.To || d.Superblock.From != choice.Name.From {
		return false, fmt.Errorf("%w: superblock of %s is for %s", delta.ErrCorrupt, choice.Name, d.Superblock.Name())
	}
	if o.Fallback == nil {
		o.Fallback = func(context.Context, *repo.Txn, []delta.Fallback) error { return nil }
	}
	if _, err := d.Execute(ctx, tx, src, o); err != nil {
		return false, err
	}
	return true, nil
}
