// Package inspect reads what the inspection verbs (log, show, ls, cat,
// rev-parse) need from a repository: revs resolved exactly as ostree
// resolves them, paths resolved inside a commit by walking dirtrees, and
// GVariant values byte-swapped the way ostree's dump code shows them. It
// never prints; callers format.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Errors returned by this package; messages follow ostree's wording.
var (
	ErrNotFound  = errors.New("inspect: not found")
	ErrAmbiguous = errors.New("inspect: ambiguous")
	ErrNotDir    = errors.New("inspect: not a directory")
	ErrIsDir     = errors.New("inspect: is a directory")
	ErrNoParent  = errors.New("inspect: commit has no parent")
)

// RevError carries ostree's message for a rev that does not resolve.
type RevError struct {
	Msg string
	Err error
}

func (e *RevError) Error() string { return e.Msg }
func (e *RevError) Unwrap() error { return e.Err }

const hexDigits = "0123456789abcdef"

// ResolveRev turns rev into a commit checksum in ostree 2022.7's order: a
// full checksum; then any all-hex string as a unique commit prefix (so a
// short prefix wins over a ref of the same name, as in ostree); then REV^
// (parent); then [REMOTE:]REF.
func ResolveRev(ctx context.Context, r *repo.Repo, rev string) (oid.Checksum, error) {
	if oid.IsChecksum(rev) {
		return oid.Parse(rev)
	}
	if len(rev) <= 64 && strings.Trim(rev, hexDigits) == "" {
		found, err := CommitsWithPrefix(ctx, r, rev)
		if err != nil {
			return oid.Checksum{}, err
		}
		if len(found) > 1 {
			return oid.Checksum{}, &RevError{fmt.Sprintf("Refspec %s not unique", rev), ErrAmbiguous}
		}
		if len(found) == 1 {
			return found[0], nil
		}
	}
	if base, ok := strings.CutSuffix(rev, "^"); ok {
		child, err := ResolveRev(ctx, r, base)
		if err != nil {
			return child, err
		}
		c, err := r.LoadCommit(ctx, child)
		if err != nil {
			return oid.Checksum{}, err
		}
		if !c.HasParent() {
			return oid.Checksum{}, &RevError{fmt.Sprintf("Commit %s has no parent", child), ErrNoParent}
		}
		return c.Parent, nil
	}
	if _, _, err := oid.ParseRefspec(rev); err != nil {
		return oid.Checksum{}, &RevError{fmt.Sprintf("Invalid refspec %s", rev), err}
	}
	sum, err := r.ResolveRev(ctx, rev)
	if err != nil {
		if errors.Is(err, repo.ErrRefNotFound) || errors.Is(err, repo.ErrAmbiguous) {
			return oid.Checksum{}, &RevError{fmt.Sprintf("Refspec '%s' not found", rev), ErrNotFound}
		}
		return oid.Checksum{}, err
	}
	return sum, nil
}

// CommitsWithPrefix lists the commit objects whose checksum starts with the
// hex string prefix (any length, even empty), sorted.
func CommitsWithPrefix(ctx context.Context, r *repo.Repo, prefix string) ([]oid.Checksum, error) {
	var dirs []string
	if len(prefix) >= 2 {
		dirs = []string{prefix[:2]}
	} else {
		for _, a := range hexDigits {
			if prefix != "" && string(a) != prefix {
				continue
			}
			for _, b := range hexDigits {
				dirs = append(dirs, string(a)+string(b))
			}
		}
	}
	var found []oid.Checksum
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ents, err := os.ReadDir(filepath.Join(r.Path(), "objects", d))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("inspect: listing commits: %w", err)
		}
		for _, e := range ents {
			base, ok := strings.CutSuffix(e.Name(), ".commit")
			if !ok || !strings.HasPrefix(d+base, prefix) {
				continue
			}
			if sum, err := oid.Parse(d + base); err == nil {
				found = append(found, sum)
			}
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].String() < found[j].String() })
	return found, nil
}
