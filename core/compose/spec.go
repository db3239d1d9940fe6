package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
)

// Spec is one commit as `ostree commit` takes it, in values instead of
// flags: the CLI and the TUI fill one in and call Commit.
type Spec struct {
	// Branch is the ref the commit goes on; "" needs Orphan.
	Branch string
	// Orphan writes a commit without moving a ref.
	Orphan bool
	// Parent is a revision, "none" for a root commit, or "" for the tip
	// of Branch (if it exists).
	Parent string
	// Trees are overlaid in order into the commit's root; none means the
	// current directory.
	Trees []TreeSource

	Subject, Body string
	// Timestamp is the commit time; zero means now.
	Timestamp time.Time
	// Metadata is the commit's a{sv} as given, in order (ostree writes
	// --add-metadata-string entries, then --add-metadata ones).
	Metadata []gvariant.DictEntry
	// KeepMetadata copies these keys from the parent commit.
	KeepMetadata []string
	// Detached is written as the commit's detached metadata.
	Detached []gvariant.DictEntry
	// BindRefs are bound besides Branch (ostree.ref-binding), unless
	// NoBindings.
	BindRefs   []string
	NoBindings bool
	// Bootable adds ostree.bootable and ostree.linux from the tree's kernel.
	Bootable bool

	// Modifier changes the imported files (owners, permissions, xattrs,
	// statoverride, skip list); nil changes nothing.
	Modifier *Modifier
	// LinkCheckoutSpeedup names files that are hardlinks into the
	// repository by their inode, without reading them.
	LinkCheckoutSpeedup bool
	// SkipIfUnchanged writes nothing when the tree equals the parent's.
	SkipIfUnchanged bool
	// Consume empties the dir= sources once the commit is in.
	Consume bool

	// Sign, when set, is called with the new commit's bytes and its
	// detached metadata before the transaction commits, and returns the
	// detached metadata to store (with signatures: ostree.gpgsigs,
	// ostree.sign.*), so that the ref moves only with them.
	Sign func(ctx context.Context, commit []byte, detached []gvariant.DictEntry) ([]gvariant.DictEntry, error)

	// Progress receives the imports' PhaseImport events.
	Progress progress.Func
}

// TreeSource is one --tree: a directory, a tar archive or a commit.
type TreeSource struct {
	Kind string // "dir", "tar" or "ref"
	Arg  string // the path, "-" for a tar on Stdin, or the revision
	// Stdin is read for Kind "tar" with Arg "-".
	Stdin io.Reader
}

// ParseTreeSource reads a --tree argument: dir=PATH, tar=FILE or ref=REV.
func ParseTreeSource(s string) (TreeSource, error) {
	kind, arg, ok := strings.Cut(s, "=")
	if !ok {
		return TreeSource{}, optionErrorf("missing type in tree specification '%s'", s)
	}
	switch kind {
	case "dir", "tar", "ref":
	default:
		return TreeSource{}, optionErrorf("invalid tree type specification '%s'", kind)
	}
	return TreeSource{Kind: kind, Arg: arg}, nil
}

func (t TreeSource) String() string { return t.Kind + "=" + t.Arg }

// Result says what Commit did.
type Result struct {
	Commit oid.Checksum
	// Written is false when SkipIfUnchanged kept the parent.
	Written bool
	Stats   ImportStats
}

// optionError is ErrOption in ostree's own words: its text is the
// message ostree prints, and errors.Is still finds ErrOption.
type optionError struct{ msg string }

func (e *optionError) Error() string        { return e.msg }
func (e *optionError) Is(target error) bool { return target == ErrOption }

func optionErrorf(format string, a ...any) error { return &optionError{fmt.Sprintf(format, a...)} }

// resolved is a TreeSource checked before anything is written.
type resolved struct {
	TreeSource
	commit oid.Checksum // Kind "ref"
}

// Commit writes a commit as `ostree commit` does: every tree imported in
// one transaction, the commit object, detached metadata and signatures,
// then the branch moved, all or nothing. Bad arguments are refused
// before anything is written, with ostree's messages.
func Commit(ctx context.Context, r *repo.Repo, spec Spec) (*Result, error) {
	if spec.Branch == "" && !spec.Orphan {
		return nil, optionErrorf("a branch must be specified with --branch, or use --orphan")
	}
	if spec.Branch != "" {
		if err := oid.ValidateRef(spec.Branch); err != nil {
			return nil, fmt.Errorf("invalid branch %q: %w", spec.Branch, err)
		}
	}
	for _, b := range spec.BindRefs {
		if err := oid.ValidateRef(b); err != nil {
			return nil, fmt.Errorf("invalid --bind-ref %q: %w", b, err)
		}
	}
	mod := spec.Modifier
	if mod == nil {
		mod = NoModifier()
	}
	if mod.CanonicalPermissions && mod.OwnerUID > 0 {
		return nil, optionErrorf("cannot specify both --canonical-permissions and non-zero --owner-uid")
	}
	if mod.CanonicalPermissions && mod.OwnerGID > 0 {
		return nil, optionErrorf("cannot specify both --canonical-permissions and non-zero --owner-gid")
	}
	parent, err := resolveParent(ctx, r, spec)
	if err != nil {
		return nil, err
	}
	meta := spec.Metadata
	if len(spec.KeepMetadata) > 0 {
		if parent.IsZero() {
			return nil, optionErrorf("either --branch or --parent must be specified when using --keep-metadata")
		}
		pc, err := r.LoadCommit(ctx, parent)
		if err != nil {
			return nil, fmt.Errorf("parent commit %s: %w", parent, err)
		}
		meta = append([]gvariant.DictEntry(nil), meta...)
		for _, k := range spec.KeepMetadata {
			v, ok := lookupDictLast(pc.Metadata, k)
			if !ok {
				return nil, fmt.Errorf("missing metadata key '%s' from commit '%s'", k, parent)
			}
			meta = append(meta, gvariant.DictEntry{Key: k, Value: v})
		}
	}
	sources, err := resolveTrees(ctx, r, spec.Trees)
	if err != nil {
		return nil, err
	}

	tx, err := r.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Abort() // a no-op once committed
	if spec.LinkCheckoutSpeedup {
		if mod.DevIno, err = tx.ScanHardlinks(ctx); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	root, err := importTrees(ctx, tx, sources, mod, spec.Progress, &res.Stats)
	if err != nil {
		return nil, err
	}
	if spec.SkipIfUnchanged && !parent.IsZero() {
		pc, err := r.LoadCommit(ctx, parent)
		if err != nil {
			return nil, fmt.Errorf("parent commit %s: %w", parent, err)
		}
		sum, err := root.Write(ctx, tx)
		if err != nil {
			return nil, err
		}
		if sum == pc.RootTree && root.Meta == pc.RootMeta {
			res.Commit = parent
			return res, nil
		}
	}
	if !spec.NoBindings {
		var refs []string
		if spec.Branch != "" {
			refs = append(refs, spec.Branch)
		}
		meta = AddBindings(meta, append(refs, spec.BindRefs...), r.Config().String("core", "collection-id", ""))
	}
	if spec.Bootable {
		if meta, err = BootableMetadata(ctx, r, root, meta); err != nil {
			return nil, err
		}
	}
	opts := CommitOptions{
		Subject: spec.Subject, Body: spec.Body, Parent: parent, Timestamp: spec.Timestamp,
		Metadata: meta, Detached: spec.Detached, Branch: spec.Branch,
	}
	if spec.Sign != nil {
		opts.sign = spec.Sign
	}
	if res.Commit, _, err = WriteCommit(ctx, tx, root, opts); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	res.Written = true
	if spec.Consume {
		for _, s := range sources {
			if s.Kind == "dir" {
				if err := removeContents(s.Arg); err != nil {
					return res, fmt.Errorf("--consume: %w", err)
				}
			}
		}
	}
	return res, nil
}

func resolveParent(ctx context.Context, r *repo.Repo, spec Spec) (oid.Checksum, error) {
	var parent oid.Checksum
	switch {
	case spec.Parent == "none":
	case spec.Parent != "":
		sum, err := r.ResolveRev(ctx, spec.Parent)
		if err != nil {
			return parent, fmt.Errorf("parent commit %s: %w", spec.Parent, err)
		}
		if _, err := r.LoadCommit(ctx, sum); err != nil {
			return parent, fmt.Errorf("parent commit %s: %w", spec.Parent, err)
		}
		parent = sum
	case !spec.Orphan:
		sum, err := r.ReadRef(ctx, "", spec.Branch)
		if err != nil && !errors.Is(err, repo.ErrRefNotFound) {
			return parent, fmt.Errorf("branch %s: %w", spec.Branch, err)
		}
		parent = sum
	}
	return parent, nil
}

// resolveTrees checks every tree source before anything is written, so
// that a bad argument leaves the repository untouched.
func resolveTrees(ctx context.Context, r *repo.Repo, trees []TreeSource) ([]resolved, error) {
	if len(trees) == 0 {
		trees = []TreeSource{{Kind: "dir", Arg: "."}}
	}
	var out []resolved
	for _, t := range trees {
		s := resolved{TreeSource: t}
		switch t.Kind {
		case "dir":
			st, err := os.Stat(t.Arg)
			if err != nil {
				return nil, fmt.Errorf("tree %s: %w", t, err)
			}
			if !st.IsDir() {
				return nil, fmt.Errorf("tree %s: %s is not a directory", t, t.Arg)
			}
		case "tar":
			if t.Arg != "-" {
				if _, err := os.Stat(t.Arg); err != nil {
					return nil, fmt.Errorf("tree %s: %w", t, err)
				}
			}
		case "ref":
			sum, err := r.ResolveRev(ctx, t.Arg)
			if err != nil {
				return nil, fmt.Errorf("tree %s: %w", t, err)
			}
			if _, err := r.LoadCommit(ctx, sum); err != nil {
				return nil, fmt.Errorf("tree %s: %w", t, err)
			}
			s.commit = sum
		default:
			return nil, optionErrorf("invalid tree type specification '%s'", t.Kind)
		}
		out = append(out, s)
	}
	return out, nil
}

// importTrees overlays the sources, in order, into one root. stats sums
// the imports.
func importTrees(ctx context.Context, tx *repo.Txn, sources []resolved, mod *Modifier, report progress.Func, stats *ImportStats) (*Tree, error) {
	r := tx.Repo()
	var root *Tree
	for _, s := range sources {
		m := treeModifier(mod)
		var t *Tree
		var st ImportStats
		var err error
		opts := ImportOptions{Modifier: m, Progress: report, Stats: &st}
		switch s.Kind {
		case "dir":
			dropDirModeAdds(mod, m, s.Arg)
			t, err = ImportDir(ctx, tx, s.Arg, opts)
		case "tar":
			t, err = importTarFile(ctx, tx, s.TreeSource, opts)
		case "ref":
			t, err = TreeFromCommitModified(ctx, tx, s.commit, m)
		}
		if err != nil {
			return nil, err
		}
		consumeMatched(mod, m)
		stats.Scanned += st.Scanned
		stats.Written += st.Written
		stats.BytesWritten += st.BytesWritten
		stats.Reused += st.Reused
		if root == nil {
			root = t
		} else if err := root.Merge(ctx, r, t); err != nil {
			return nil, err
		}
	}
	return root, unmatched(mod)
}

// importTarFile reads a tarball (or Stdin for "-") into a tree.
func importTarFile(ctx context.Context, tx *repo.Txn, s TreeSource, opts ImportOptions) (*Tree, error) {
	in := s.Stdin
	if s.Arg != "-" || in == nil {
		f, err := os.Open(s.Arg)
		if err != nil {
			return nil, fmt.Errorf("tree %s: %w", s, err)
		}
		defer f.Close()
		in = f
	}
	t, err := ImportTar(ctx, tx, in, opts)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", s, err)
	}
	return t, nil
}

// treeModifier copies mod for one --tree: ostree removes a statoverride or
// skip-list path from its table once it matched, so a later tree holding
// the same path is not modified again.
func treeModifier(mod *Modifier) *Modifier {
	m := NoModifier()
	m.OwnerUID, m.OwnerGID = mod.OwnerUID, mod.OwnerGID
	m.CanonicalPermissions, m.SkipXattrs, m.DevIno = mod.CanonicalPermissions, mod.SkipXattrs, mod.DevIno
	m.ModeSet = mod.ModeSet // never consumed, so shared
	if mod.ModeAdd != nil {
		m.ModeAdd = maps.Clone(mod.ModeAdd)
	}
	if mod.Skip != nil {
		m.Skip = maps.Clone(mod.Skip)
	}
	return m
}

// dropDirModeAdds reproduces a quirk of ostree 2022.7: the filter runs
// twice on a subdirectory, first to decide whether to skip it, then for
// its dirmeta; the first call consumes the statoverride entry, so the bits
// are never applied to a directory other than the root, yet the path
// counts as matched.
func dropDirModeAdds(mod, m *Modifier, src string) {
	for p := range m.ModeAdd {
		if p == "/" || skippedAncestor(m.Skip, p) {
			continue
		}
		if st, err := os.Lstat(filepath.Join(src, p)); err == nil && st.IsDir() {
			delete(m.ModeAdd, p)
			delete(mod.ModeAdd, p)
		}
	}
}

// skippedAncestor reports whether a parent directory of p is skipped, so
// that p is never visited.
func skippedAncestor(skip map[string]bool, p string) bool {
	for d := filepath.Dir(p); d != "/" && d != "."; d = filepath.Dir(d) {
		if skip[d] {
			return true
		}
	}
	return false
}

// consumeMatched drops from mod the paths that used matched.
func consumeMatched(mod, used *Modifier) {
	left := map[string]bool{}
	for _, p := range used.Unmatched() {
		left[p] = true
	}
	for p := range used.ModeAdd {
		if !left[p] {
			delete(mod.ModeAdd, p)
		}
	}
	for p := range used.Skip {
		if !left[p] {
			delete(mod.Skip, p)
		}
	}
}

// unmatched reports statoverride and skip-list paths that matched no
// file, which ostree treats as errors.
func unmatched(mod *Modifier) error {
	var stat, skip []string
	for p := range mod.ModeAdd {
		stat = append(stat, p)
	}
	for p := range mod.Skip {
		skip = append(skip, p)
	}
	sort.Strings(stat)
	sort.Strings(skip)
	switch {
	case len(stat) > 0:
		return fmt.Errorf("unmatched statoverride paths: %s", strings.Join(stat, ", "))
	case len(skip) > 0:
		return fmt.Errorf("unmatched skip-list paths: %s", strings.Join(skip, ", "))
	}
	return nil
}

// removeContents empties dir (--consume).
func removeContents(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
