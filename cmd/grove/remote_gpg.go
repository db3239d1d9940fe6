package main

import (
	"context"
	"errors"

	"github.com/groveos/grove/core/repo"
)

// remoteGPGImport imports keys into <repo>/<remote>.trustedkeys.gpg.
func remoteGPGImport(ctx context.Context, r *repo.Repo, name string, files []string, stdin bool, ids []string) error {
	return errors.New("GPG key import is not available in this build yet")
}
