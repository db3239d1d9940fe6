package main

import (
	"context"
	"fmt"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// openRepo opens the repository named by --repo or $OSTREE_REPO.
func openRepo(ctx context.Context) (*repo.Repo, error) {
	p, err := repoPath()
	if err != nil {
		return nil, err
	}
	r, err := repo.Open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("opening repo %s: %w", p, err)
	}
	return r, nil
}

// openRepoRev opens the repository and resolves rev in it, the opening
// move of every verb that reads one commit.
func openRepoRev(ctx context.Context, rev string) (*repo.Repo, oid.Checksum, error) {
	r, err := openRepo(ctx)
	if err != nil {
		return nil, oid.Checksum{}, err
	}
	sum, err := r.ResolveRev(ctx, rev)
	return r, sum, err
}
