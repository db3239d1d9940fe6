package inspect

import (
	"context"
	"errors"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Errors returned by this package; messages follow ostree's wording.
var (
	ErrNotFound  = errors.New("inspect: not found")
	ErrAmbiguous = errors.New("inspect: ambiguous")
	ErrNotDir    = errors.New("inspect: not a directory")
	ErrIsDir     = errors.New("inspect: is a directory")
)

// ResolveRev turns rev into a commit checksum in ostree 2022.7's order
// (see repo.ResolveRev); unresolvable revs are *repo.RevError carrying
// ostree's message and wrapping ErrNotFound or ErrAmbiguous too.
func ResolveRev(ctx context.Context, r *repo.Repo, rev string) (oid.Checksum, error) {
	sum, err := r.ResolveRev(ctx, rev)
	var re *repo.RevError
	switch {
	case err == nil:
	case errors.As(err, &re) && errors.Is(err, repo.ErrAmbiguous):
		return sum, &repo.RevError{Msg: re.Msg, Err: ErrAmbiguous}
	case errors.As(err, &re):
		return sum, &repo.RevError{Msg: re.Msg, Err: ErrNotFound}
	}
	return sum, err
}

// CommitsWithPrefix lists the commit objects whose checksum starts with the
// hex string prefix (any length, even empty), sorted.
func CommitsWithPrefix(ctx context.Context, r *repo.Repo, prefix string) ([]oid.Checksum, error) {
	return r.CommitsWithPrefix(ctx, prefix)
}
