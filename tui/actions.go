package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/fsck"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/prune"
	"github.com/groveos/grove/core/repo"
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
			res, err := fsck.Run(ctx, s.Repo, fsck.Options{All: true, Progress: func(p fsck.Progress) {
				progress(int64(p.Done), int64(p.Total))
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

// commitAction writes a commit onto req.Branch (parent: the branch tip) the
// way `grove commit --branch=B --subject=S [--add-metadata-string=version=V]`
// does: version metadata, then ostree.ref-binding.
func (s *Services) commitAction(ctx context.Context, req views.ActionRequest, progress func(done, total int64)) (oid.Checksum, error) {
	r := s.Repo
	var zero oid.Checksum
	if err := oid.ValidateRef(req.Branch); err != nil {
		return zero, fmt.Errorf("invalid branch %q: %w", req.Branch, err)
	}
	parent, err := r.ReadRef(ctx, "", req.Branch)
	if err != nil && !errors.Is(err, repo.ErrRefNotFound) {
		return zero, fmt.Errorf("branch %s: %w", req.Branch, err)
	}
	var sources []oid.Checksum
	if req.Kind == views.ActUnion {
		if len(req.Refs) == 0 {
			return zero, errors.New("union: no refs given")
		}
		for _, ref := range req.Refs {
			sum, err := inspect.ResolveRev(ctx, r, ref)
			if err != nil {
				return zero, fmt.Errorf("ref %s: %w", ref, err)
			}
			sources = append(sources, sum)
		}
	} else if _, err := os.Stat(req.Source); err != nil {
		return zero, err
	}
	tx, err := r.Begin(ctx)
	if err != nil {
		return zero, err
	}
	done := false
	defer func() {
		if !done {
			tx.Abort()
		}
	}()
	var root *compose.Tree
	onImport := func(p compose.Progress) { progress(p.Scanned, 0) }
	switch {
	case req.Kind == views.ActUnion:
		for i, sum := range sources {
			t, err := compose.TreeFromCommit(ctx, r, sum)
			if err != nil {
				return zero, fmt.Errorf("ref %s: %w", req.Refs[i], err)
			}
			if root == nil {
				root = t
			} else if err := root.Merge(ctx, r, t); err != nil {
				return zero, fmt.Errorf("merging %s: %w", req.Refs[i], err)
			}
			progress(int64(i+1), int64(len(sources)))
		}
	case req.Tar:
		f, err := os.Open(req.Source)
		if err != nil {
			return zero, err
		}
		defer f.Close()
		if root, err = compose.ImportTar(ctx, tx, f, compose.NoModifier(), onImport); err != nil {
			return zero, fmt.Errorf("%s: %w", req.Source, err)
		}
	default:
		if root, err = compose.ImportDir(ctx, tx, req.Source, compose.NoModifier(), onImport); err != nil {
			return zero, fmt.Errorf("%s: %w", req.Source, err)
		}
	}
	var meta []gvariant.DictEntry
	if req.Version != "" {
		meta = append(meta, gvariant.DictEntry{Key: "version", Value: gvariant.NewVariant("s", req.Version)})
	}
	meta = compose.AddBindings(meta, []string{req.Branch}, r.Config().String("core", "collection-id", ""))
	ts := req.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{
		Subject: req.Subject, Body: req.Body, Parent: parent, Timestamp: ts, Metadata: meta, Branch: req.Branch,
	})
	if err != nil {
		return zero, err
	}
	done = true
	if err := tx.Commit(ctx); err != nil {
		return zero, err
	}
	return sum, nil
}

func (s *Services) checkoutAction(ctx context.Context, req views.ActionRequest, progress func(done, total int64)) (string, error) {
	sum, err := inspect.ResolveRev(ctx, s.Repo, req.Commit)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", req.Commit, err)
	}
	var last checkout.Progress
	err = checkout.Checkout(ctx, s.Repo, sum, req.Dest, checkout.Options{User: req.User, Progress: func(p checkout.Progress) {
		last = p
		progress(p.Files+p.Dirs, 0)
	}})
	if err != nil {
		return "", fmt.Errorf("checking out %s to %s: %w", req.Commit, req.Dest, err)
	}
	return fmt.Sprintf("%s: %d files, %d directories", req.Dest, last.Files, last.Dirs), nil
}

func (s *Services) resetAction(ctx context.Context, req views.ActionRequest) (string, error) {
	known, err := inspect.ListRefs(ctx, s.Repo, "", true, false)
	if err != nil {
		return "", err
	}
	if _, ok := known[req.Ref]; !ok {
		return "", fmt.Errorf("no ref %q", req.Ref)
	}
	sum, err := inspect.ResolveRev(ctx, s.Repo, req.Commit)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", req.Commit, err)
	}
	remote, name, err := oid.ParseRefspec(req.Ref)
	if err != nil {
		return "", fmt.Errorf("invalid ref %q: %w", req.Ref, err)
	}
	if err := s.Repo.SetRef(ctx, remote, name, sum); err != nil {
		return "", err
	}
	return strings.TrimSpace(req.Ref + " → " + sum.String()), nil
}
