package main

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/delta/apply"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/pull"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/summary"
)

// deltaStats counts what pulls through deltas did, for the status line.
type deltaStats struct {
	parts atomic.Int64
}

// pullDeltas is pull's DeltaFunc: ostree's choice of delta (summary list
// or delta index, else a probe of the superblock) applied with
// delta/apply, the summary's digest checked.
func pullDeltas(sum *remote.Summary, stats *deltaStats) pull.DeltaFunc {
	return func(ctx context.Context, req pull.DeltaRequest) (bool, error) {
		files, ok := req.Src.(pull.Files)
		if !ok || req.DryRun {
			return false, nil
		}
		pr := apply.PullRequest{
			Files:    files,
			NotFound: func(err error) bool { return errors.Is(err, pull.ErrNotFound) },
			From:     req.From, To: req.To,
		}
		if sum != nil {
			pr.HaveSummary = true
			if v, ok := gvariant.Lookup(sum.Meta, summary.KeyStaticDeltas); ok {
				pr.Listed = delta.ParseDeltaDict(v)
			}
			if v, ok := gvariant.Lookup(sum.Meta, summary.KeyIndexedDeltas); ok {
				if vv, ok := v.(gvariant.Variant); ok {
					pr.Indexed, _ = vv.Value.(bool)
				}
			}
		}
		var parts int64
		ok, err := apply.Pull(ctx, req.Tx, pr, apply.Options{Progress: func(e progress.Event) {
			if e.Final {
				parts = e.Total
			}
			req.Progress.Report(e)
		}})
		if ok {
			stats.parts.Add(parts)
		}
		return ok, err
	}
}
