package main

import (
	"context"
	"fmt"

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
