// Package refs keeps a repository's refs (refs/heads, refs/remotes,
// refs/mirrors): listing them as ostree enumerates them, resolving revs in
// ostree's order, and writing them atomically. It is internal to
// core/repo, whose Repo embeds a *Refs.
package refs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo/internal/loose"
)

// Errors returned by this package (core/repo re-exports them).
var (
	ErrRefNotFound = errors.New("repo: ref not found")
	ErrAmbiguous   = errors.New("repo: ambiguous checksum")
)

// Refs is a repository's refs.
type Refs struct {
	path   string
	objs   *loose.Store // for rev resolution (commit prefixes, parents) and the fsync setting
	parent *Refs
}

// New returns the refs of the repository at path; parent is searched for
// refs this one lacks (core.parent).
func New(path string, objs *loose.Store, parent *Refs) *Refs {
	return &Refs{path: path, objs: objs, parent: parent}
}

// Ref is one entry of refs/: a local head, a remote ref or a mirror.
type Ref struct {
	Remote   string // "" for refs/heads; the collection ID for mirrors
	Mirror   bool
	Name     string
	Checksum oid.Checksum
	// AliasOf is set when the ref file is a symlink to another ref.
	AliasOf string
}

// Refspec renders "remote:name" or just "name" for local refs.
func (r Ref) Refspec() string {
	if r.Remote != "" && !r.Mirror {
		return r.Remote + ":" + r.Name
	}
	return r.Name
}

// ValidateRefspec checks a remote (may be empty) and a ref name.
func ValidateRefspec(remote, ref string) error {
	if remote != "" {
		if err := oid.ValidateRemote(remote); err != nil {
			return err
		}
	}
	return oid.ValidateRef(ref)
}

func (s *Refs) refPath(remote, ref string) string {
	if remote == "" {
		return filepath.Join(s.path, "refs", "heads", ref)
	}
	return filepath.Join(s.path, "refs", "remotes", remote, ref)
}

// refFragment is what ostree accepts as one component of a ref name when
// it lists refs; other files and directories under refs/ are ignored.
var refFragment = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w\d][-._\w\d]*$`) })

// enumRefs walks the ref files under dir, calling fn with each ref's name
// (base + its path below dir), its file and whether it is a symlink (an
// alias), as _ostree_repo_list_refs_internal does.
func enumRefs(ctx context.Context, dir, base string, fn func(name, path string, symlink bool) error) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if loose.IsNotExist(err) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !refFragment().MatchString(e.Name()) {
			continue
		}
		name, p := base+e.Name(), filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			if err := enumRefs(ctx, p, name+"/", fn); err != nil {
				return err
			}
		case e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0:
			if err := fn(name, p, e.Type()&fs.ModeSymlink != 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListRefs returns every ref (heads, remotes, mirrors), sorted by
// refspec. Aliases resolve to their target's checksum.
func (s *Refs) ListRefs(ctx context.Context) ([]Ref, error) {
	var out []Ref
	add := func(dir string, mk func(name string) Ref) error {
		return enumRefs(ctx, dir, "", func(name, p string, symlink bool) error {
			ref := mk(name)
			if symlink {
				t, err := os.Readlink(p)
				if err != nil {
					return err
				}
				ref.AliasOf = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(ref.Name), t)))
			}
			sum, err := readRefFile(p)
			if err != nil {
				return err
			}
			ref.Checksum = sum
			out = append(out, ref)
			return nil
		})
	}
	groups := func(sub string, mirror bool) error {
		dir := filepath.Join(s.path, "refs", sub)
		ents, err := os.ReadDir(dir)
		if err != nil && !loose.IsNotExist(err) {
			return err
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			group := e.Name()
			if err := add(filepath.Join(dir, group), func(name string) Ref { return Ref{Remote: group, Mirror: mirror, Name: name} }); err != nil {
				return err
			}
		}
		return nil
	}
	err := add(filepath.Join(s.path, "refs", "heads"), func(name string) Ref { return Ref{Name: name} })
	if err == nil {
		err = groups("remotes", false)
	}
	if err == nil {
		err = groups("mirrors", true)
	}
	if err != nil {
		return nil, fmt.Errorf("repo: list refs: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Mirror != out[j].Mirror {
			return !out[i].Mirror
		}
		return out[i].Refspec() < out[j].Refspec()
	})
	return out, nil
}

// RefsWithPrefix lists refs as `ostree refs [PREFIX]` does
// (_ostree_repo_list_refs_internal): with an empty prefix every local and
// remote ref ("remote:ref"); otherwise the refs under refs/heads/PREFIX or
// refs/remotes/REMOTE/PREFIX (PREFIX may name one ref or a directory;
// "remote:" lists a whole remote). cut removes the prefix from the names,
// as `ostree refs PREFIX` does (but not with --list). aliasesOnly lists
// only symlinked refs, mapped to their target name; otherwise the values
// are the checksums the refs hold. Errors read as ostree's.
func (s *Refs) RefsWithPrefix(ctx context.Context, prefix string, cut, aliasesOnly bool) (map[string]string, error) {
	out := map[string]string{}
	collect := func(dir, base, remote string) error {
		return enumRefs(ctx, dir, base, func(name, p string, symlink bool) error {
			switch {
			case aliasesOnly && symlink:
				t, err := os.Readlink(p)
				if err != nil {
					return err
				}
				for strings.HasPrefix(t, "../") {
					t = t[3:]
				}
				out[name] = t
			case !aliasesOnly:
				sum, err := readRefText(p)
				if err != nil {
					return err
				}
				out[qualify(remote, name)] = sum
			}
			return nil
		})
	}
	if prefix == "" {
		if err := collect(filepath.Join(s.path, "refs", "heads"), "", ""); err != nil {
			return nil, fmt.Errorf("Listing refs: %w", err)
		}
		ents, err := os.ReadDir(filepath.Join(s.path, "refs", "remotes"))
		if err != nil && !loose.IsNotExist(err) {
			return nil, fmt.Errorf("Listing refs: %w", err)
		}
		for _, e := range ents {
			if e.IsDir() {
				if err := collect(filepath.Join(s.path, "refs", "remotes", e.Name()), "", e.Name()); err != nil {
					return nil, fmt.Errorf("Listing refs: %w", err)
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
	path := filepath.Join(s.refPath(remote, ""), refPrefix)
	st, err := os.Stat(path)
	if loose.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Listing refs: %w", err)
	}
	if st.IsDir() {
		base := refPrefix + "/"
		if cut {
			base = ""
		}
		if err := collect(path, base, remote); err != nil {
			return nil, fmt.Errorf("Listing refs: %w", err)
		}
		return out, nil
	}
	sum, err := readRefText(path)
	if err != nil {
		return nil, fmt.Errorf("Listing refs: %w", err)
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

// readRefText is a ref file's content as ostree lists it (unparsed).
func readRefText(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), " \t\n\r"), nil
}

func readRefFile(p string) (oid.Checksum, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return oid.Checksum{}, err
	}
	s := strings.TrimSpace(string(b))
	sum, err := oid.Parse(s)
	if err != nil {
		return sum, fmt.Errorf("repo: ref file %s: %w", p, err)
	}
	return sum, nil
}

// ReadRef resolves a ref exactly (no checksums, no ^).
func (s *Refs) ReadRef(ctx context.Context, remote, ref string) (oid.Checksum, error) {
	if err := ValidateRefspec(remote, ref); err != nil {
		return oid.Checksum{}, err
	}
	sum, err := readRefFile(s.refPath(remote, ref))
	if err == nil {
		return sum, nil
	}
	if loose.IsNotExist(err) {
		if s.parent != nil {
			return s.parent.ReadRef(ctx, remote, ref)
		}
		spec := ref
		if remote != "" {
			spec = remote + ":" + ref
		}
		return oid.Checksum{}, fmt.Errorf("%w: %s", ErrRefNotFound, spec)
	}
	return oid.Checksum{}, err
}

// RevError carries ostree's wording for a rev that does not resolve; it
// wraps ErrRefNotFound or ErrAmbiguous.
type RevError struct {
	Msg string
	Err error
}

func (e *RevError) Error() string { return e.Msg }
func (e *RevError) Unwrap() error { return e.Err }

// ResolveRev turns rev into a commit checksum in ostree 2022.7's order: a
// full checksum; then any all-hex string as a unique commit prefix (so a
// short prefix wins over a ref of the same name, as in ostree); then REV^
// (parent, repeatable); then [REMOTE:]REF, where "remote/ref" also finds
// refs/remotes/remote/ref.
func (s *Refs) ResolveRev(ctx context.Context, rev string) (oid.Checksum, error) {
	if oid.IsChecksum(rev) {
		return oid.Parse(rev)
	}
	if len(rev) <= 2*oid.Size && strings.Trim(rev, "0123456789abcdef") == "" {
		found, err := s.objs.CommitsWithPrefix(ctx, rev)
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
		child, err := s.ResolveRev(ctx, base)
		if err != nil {
			return child, err
		}
		c, err := s.objs.LoadCommit(ctx, child)
		if err != nil {
			return oid.Checksum{}, err
		}
		if !c.HasParent() {
			return oid.Checksum{}, &RevError{fmt.Sprintf("Commit %s has no parent", child), ErrRefNotFound}
		}
		return c.Parent, nil
	}
	remote, ref, err := oid.ParseRefspec(rev)
	if err != nil {
		return oid.Checksum{}, &RevError{fmt.Sprintf("Invalid refspec %s", rev), err}
	}
	sum, err := s.ReadRef(ctx, remote, ref)
	if err != nil && errors.Is(err, ErrRefNotFound) && remote == "" {
		if rem, rest, ok := strings.Cut(ref, "/"); ok {
			if s, rerr := s.ReadRef(ctx, rem, rest); rerr == nil {
				return s, nil
			}
		}
	}
	if errors.Is(err, ErrRefNotFound) {
		return oid.Checksum{}, &RevError{fmt.Sprintf("Refspec '%s' not found", rev), ErrRefNotFound}
	}
	return sum, err
}

// SetRef points a ref at a commit, atomically (outside a transaction).
func (s *Refs) SetRef(ctx context.Context, remote, ref string, sum oid.Checksum) error {
	if err := ValidateRefspec(remote, ref); err != nil {
		return err
	}
	return s.WriteRef(remote, ref, sum)
}

// ResetRef points an existing ref (refspec: "name" or "remote:name") at
// the commit rev names, as `ostree reset` does: the ref must exist, but
// the commit need not descend from what it held.
func (s *Refs) ResetRef(ctx context.Context, refspec, rev string) (oid.Checksum, error) {
	known, err := s.RefsWithPrefix(ctx, "", true, false)
	if err != nil {
		return oid.Checksum{}, err
	}
	if _, ok := known[refspec]; !ok {
		return oid.Checksum{}, &RevError{fmt.Sprintf("Invalid ref '%s'", refspec), ErrRefNotFound}
	}
	sum, err := s.ResolveRev(ctx, rev)
	if err != nil {
		return sum, err
	}
	remote, name, err := oid.ParseRefspec(refspec)
	if err != nil {
		return sum, fmt.Errorf("Invalid ref '%s': %w", refspec, err)
	}
	return sum, s.SetRef(ctx, remote, name, sum)
}

// DeleteRef removes a ref; deleting a missing ref is an error.
func (s *Refs) DeleteRef(ctx context.Context, remote, ref string) error {
	if err := ValidateRefspec(remote, ref); err != nil {
		return err
	}
	if _, err := os.Lstat(s.refPath(remote, ref)); err != nil {
		return fmt.Errorf("%w: %s", ErrRefNotFound, ref)
	}
	return s.WriteRef(remote, ref, oid.Checksum{})
}

// WriteRef points a ref at sum (zero deletes it), atomically.
func (s *Refs) WriteRef(remote, ref string, sum oid.Checksum) error {
	p := s.refPath(remote, ref)
	if sum.IsZero() {
		if err := os.Remove(p); err != nil && !loose.IsNotExist(err) {
			return fmt.Errorf("repo: delete ref %s: %w", ref, err)
		}
		if s.objs.Fsync() {
			fsutil.SyncDir(filepath.Dir(p))
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("repo: write ref %s: %w", ref, err)
	}
	// Writing through an alias would replace the symlink with a file;
	// ostree rejects that, so do we.
	if st, err := os.Lstat(p); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("repo: ref %s is an alias; update its target instead", ref)
	}
	if err := fsutil.WriteFileAtomic(p, []byte(sum.String()+"\n"), 0o644, s.objs.Fsync()); err != nil {
		return fmt.Errorf("repo: write ref %s: %w", ref, err)
	}
	return nil
}

// CreateAlias makes refs/heads/alias a symlink to refs/heads/target.
func (s *Refs) CreateAlias(ctx context.Context, alias, target string) error {
	if err := oid.ValidateRef(alias); err != nil {
		return err
	}
	if _, err := s.ReadRef(ctx, "", target); err != nil {
		return err
	}
	p := s.refPath("", alias)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(p), s.refPath("", target))
	if err != nil {
		return err
	}
	tmp := p + ".tmp-alias"
	os.Remove(tmp)
	if err := os.Symlink(rel, tmp); err != nil {
		return fmt.Errorf("repo: alias %s: %w", alias, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("repo: alias %s: %w", alias, err)
	}
	if s.objs.Fsync() {
		return fsutil.SyncDir(filepath.Dir(p))
	}
	return nil
}
