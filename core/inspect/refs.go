package inspect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

var refFragment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w\d][-._\w\d]*$`) })

// ListRefs mirrors ostree's _ostree_repo_list_refs_internal: with an empty
// prefix every local and remote ref ("remote:ref"); otherwise the refs under
// refs/heads/PREFIX or refs/remotes/REMOTE/PREFIX (PREFIX may name one ref
// or a directory; "remote:" lists a whole remote). cut removes the prefix
// from the names, as `ostree refs PREFIX` does (but not with --list).
// aliasesOnly lists only symlinked refs, mapped to their target name;
// otherwise the values are the checksums the refs hold.
func ListRefs(ctx context.Context, r *repo.Repo, prefix string, cut, aliasesOnly bool) (map[string]string, error) {
	out := map[string]string{}
	if prefix == "" {
		if err := enumRefs(ctx, filepath.Join(r.Path(), "refs", "heads"), "", "", aliasesOnly, out); err != nil {
			return nil, err
		}
		ents, err := os.ReadDir(filepath.Join(r.Path(), "refs", "remotes"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("Listing refs: %w", err)
		}
		for _, e := range ents {
			if e.IsDir() {
				if err := enumRefs(ctx, filepath.Join(r.Path(), "refs", "remotes", e.Name()), "", e.Name(), aliasesOnly, out); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
	var remote, refPrefix string
	if p, ok := strings.CutSuffix(prefix, ":"); ok && oid.ValidateRemote(p) == nil {
		remote, refPrefix = p, "."
	} else if p, ok := strings.CutSuffix(prefix, ":."); ok && oid.ValidateRemote(p) == nil {
		remote, refPrefix = p, "."
	} else {
		var err error
		if remote, refPrefix, err = oid.ParseRefspec(prefix); err != nil {
			return nil, fmt.Errorf("Listing refs: Invalid refspec %s", prefix)
		}
	}
	base := filepath.Join(r.Path(), "refs", "heads")
	if remote != "" {
		base = filepath.Join(r.Path(), "refs", "remotes", remote)
	}
	path := filepath.Join(base, refPrefix)
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Listing refs: %w", err)
	}
	if st.IsDir() {
		if cut {
			return out, enumRefs(ctx, path, "", remote, aliasesOnly, out)
		}
		return out, enumRefs(ctx, path, refPrefix+"/", remote, aliasesOnly, out)
	}
	sum, err := readRef(path)
	if err != nil {
		return nil, err
	}
	out[qualify(remote, refPrefix)] = sum
	return out, nil
}

func qualify(remote, name string) string {
	if remote != "" {
		return remote + ":" + name
	}
	return name
}

func readRef(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("Listing refs: %w", err)
	}
	return strings.TrimRight(string(b), " \t\n\r"), nil
}

func enumRefs(ctx context.Context, dir, base, remote string, aliasesOnly bool, out map[string]string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("Listing refs: %w", err)
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !refFragment().MatchString(e.Name()) {
			continue
		}
		name := base + e.Name()
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			if err := enumRefs(ctx, p, name+"/", remote, aliasesOnly, out); err != nil {
				return err
			}
		case aliasesOnly && e.Type()&os.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("Listing refs: %w", err)
			}
			for strings.HasPrefix(t, "../") {
				t = t[3:]
			}
			out[name] = t
		case !aliasesOnly && (e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0):
			sum, err := readRef(p)
			if err != nil {
				return err
			}
			out[qualify(remote, name)] = sum
		}
	}
	return nil
}
