package tui

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/views"
)

// Refs implements views.RefSource: every ref with its commit, heads first,
// then remotes, mirrors and aliases, each sorted by name.
func (s *Services) Refs(ctx context.Context) ([]views.RefInfo, error) {
	refs, err := s.Repo.ListRefs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]views.RefInfo, 0, len(refs))
	for _, r := range refs {
		ri := views.RefInfo{Name: r.Refspec(), Checksum: r.Checksum, AliasOf: r.AliasOf}
		switch {
		case r.AliasOf != "":
			ri.Kind = views.RefAlias
		case r.Mirror:
			ri.Kind = views.RefMirror
		case r.Remote != "":
			ri.Kind = views.RefRemote
		}
		if !r.Checksum.IsZero() {
			if c, err := s.Repo.LoadCommit(ctx, r.Checksum); err == nil {
				ri.Commit = c
			}
		}
		out = append(out, ri)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Resolve implements views.LogSource.
func (s *Services) Resolve(ctx context.Context, rev string) (oid.Checksum, error) {
	return s.Repo.ResolveRev(ctx, rev)
}

// History implements views.LogSource: up to n commits from `from` along
// parents; a missing commit object ends the page as a Partial entry.
func (s *Services) History(ctx context.Context, from oid.Checksum, n int) ([]views.CommitInfo, error) {
	var out []views.CommitInfo
	for sum := from; !sum.IsZero() && len(out) < n; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := s.Repo.LoadCommit(ctx, sum)
		if errors.Is(err, repo.ErrNotFound) {
			out = append(out, views.CommitInfo{Checksum: sum, Partial: true})
			break
		}
		if err != nil {
			return out, fmt.Errorf("commit %s: %w", sum, err)
		}
		out = append(out, views.CommitInfo{Checksum: sum, Commit: c})
		sum = c.Parent
	}
	return out, nil
}

// Detached implements views.LogSource.
func (s *Services) Detached(ctx context.Context, commit oid.Checksum) (views.DetachedMeta, error) {
	m, err := s.Repo.LoadCommitMeta(ctx, commit)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return views.DetachedMeta{}, nil
	}
	return views.DetachedMeta(m), nil
}
