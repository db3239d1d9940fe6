package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/fsck"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/oid"
	engine "github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/prune"
	"github.com/groveos/grove/views"
)

// ActionRepoPath implements views.ActionSource.
func (s *Services) ActionRepoPath() string { return s.RepoPath }

// ActionRun implements views.ActionSource: each action calls core directly
// (never the CLI) and reports progress.
func (s *Services) ActionRun(req views.ActionRequest) views.ActionFunc {
	return func(ctx context.Context, progress func(done, total int64)) (string, error) {
		if progress == nil {
			progress = func(int64, int64) {}
		}
		switch req.Kind {
		case views.ActCommit, views.ActUnion:
			sum, err := s.commitAction(ctx, req, progress)
			if err != nil {
				return "", err
			}
			return req.Branch + " → " + sum.String(), nil
		case views.ActCheckout:
			return s.checkoutAction(ctx, req, progress)
		case views.ActReset:
			return s.resetAction(ctx, req)
		case views.ActDeleteRef:
			remote, name, err := oid.ParseRefspec(req.Ref)
			if err != nil {
				return "", fmt.Errorf("invalid ref %q: %w", req.Ref, err)
			}
			if err := s.Repo.DeleteRef(ctx, remote, name); err != nil {
				return "", fmt.Errorf("deleting %s: %w", req.Ref, err)
			}
			return "deleted " + req.Ref, nil
		case views.ActPrune:
			res, err := prune.Prune(ctx, s.Repo, prune.Options{RefsOnly: req.RefsOnly, Depth: req.Depth})
			if err != nil {
				return "", err
			}
			if res.Pruned == 0 {
				return fmt.Sprintf("%d objects, no unreachable objects", res.Total), nil
			}
			return fmt.Sprintf("%d objects, deleted %d (%d bytes freed)", res.Total, res.Pruned, res.Freed), nil
		case views.ActFsck:
			res, err := fsck.Run(ctx, s.Repo, fsck.Options{All: true, Progress: func(e engine.Event) {
				if e.Phase == fsck.PhaseObject {
					progress(e.Done, e.Total)
				}
			}})
			if err != nil {
				return "", err
			}
			sum := fmt.Sprintf("%d commits, %d objects checked, %d partial", res.Commits, res.Objects, res.Partial)
			if len(res.Problems) > 0 {
				return sum, fmt.Errorf("%d problems, first: %w", len(res.Problems), res.Problems[0])
			}
			return sum + ", no problems", nil
		}
		return "", fmt.Errorf("unknown action %d", req.Kind)
	}
}

// commitAction writes a commit onto req.Branch (parent: the branch tip)
// through compose.Commit, as `grove commit --branch=B --subject=S
// [--add-metadata-string=version=V] --tree=dir=D|tar=T|ref=R…` does.
func (s *Services) commitAction(ctx context.Context, req views.ActionRequest, progress func(done, total int64)) (oid.Checksum, error) {
	spec := compose.Spec{Branch: req.Branch, Subject: req.Subject, Body: req.Body, Timestamp: req.Timestamp}
	if req.Version != "" {
		spec.Metadata = []gvariant.DictEntry{{Key: "version", Value: gvariant.NewVariant("s", req.Version)}}
	}
	switch {
	case req.Kind == views.ActUnion:
		if len(req.Refs) == 0 {
			return oid.Checksum{}, errors.New("union: no refs given")
		}
		for _, ref := range req.Refs {
			spec.Trees = append(spec.Trees, compose.TreeSource{Kind: "ref", Arg: ref})
		}
	case req.Tar:
		spec.Trees = []compose.TreeSource{{Kind: "tar", Arg: req.Source}}
	default:
		spec.Trees = []compose.TreeSource{{Kind: "dir", Arg: req.Source}}
	}
	spec.Progress = func(e engine.Event) { progress(e.Done, e.Total) }
	res, err := compose.Commit(ctx, s.Repo, spec)
	if err != nil {
		return oid.Checksum{}, err
	}
	return res.Commit, nil
}

func (s *Services) checkoutAction(ctx context.Context, req views.ActionRequest, progress func(done, total int64)) (string, error) {
	sum, err := inspect.ResolveRev(ctx, s.Repo, req.Commit)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", req.Commit, err)
	}
	var last checkout.Stats
	err = checkout.Checkout(ctx, s.Repo, sum, req.Dest, checkout.Options{User: req.User, Stats: &last,
		Progress: func(e engine.Event) { progress(e.Done, 0) }})
	if err != nil {
		return "", fmt.Errorf("checking out %s to %s: %w", req.Commit, req.Dest, err)
	}
	return fmt.Sprintf("%s: %d files, %d directories", req.Dest, last.Files, last.Dirs), nil
}

func (s *Services) resetAction(ctx context.Context, req views.ActionRequest) (string, error) {
	sum, err := s.Repo.ResetRef(ctx, req.Ref, req.Commit)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(req.Ref + " → " + sum.String()), nil
}
