package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sign"
	"github.com/spf13/cobra"
)

// commitFlags are ostree 2022.7's `commit` options.
type commitFlags struct {
	subject, body, bodyFile, branch, parent string
	orphan, noBindings                      bool
	bindRefs, trees                         []string
	metaStrings, metaVariants, keepMeta     []string
	detachedStrings                         []string
	ownerUID, ownerGID                      int
	canonical, noXattrs, bootable           bool
	linkSpeedup, devinoCanonical            bool
	tarAutocreate, skipIfUnchanged, consume bool
	statoverride, skipList, timestamp       string
	generateSizes, disableFsync             bool
	fsync                                   string
	gpgSign, signKeys                       []string
	gpgHome, signType                       string
}

func init() {
	register(func() *cobra.Command {
		var o commitFlags
		cmd := &cobra.Command{
			Use:   "commit [PATH]",
			Short: "Commit a new revision",
			Args:  cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return runCommit(cmd, &o, args)
			},
		}
		f := cmd.Flags()
		f.StringVar(&o.parent, "parent", "", `parent commit checksum, or "none"`)
		f.StringVarP(&o.subject, "subject", "s", "", "one line subject")
		f.StringVarP(&o.body, "body", "m", "", "full description")
		f.StringVarP(&o.bodyFile, "body-file", "F", "", "commit message from FILE path")
		f.StringVarP(&o.branch, "branch", "b", "", "branch")
		f.BoolVar(&o.orphan, "orphan", false, "create a commit without writing a ref")
		f.BoolVar(&o.noBindings, "no-bindings", false, "do not write any ref bindings")
		f.StringArrayVar(&o.bindRefs, "bind-ref", nil, "add a ref to ref binding commit metadata")
		f.StringArrayVar(&o.trees, "tree", nil, "overlay the given argument as a tree (dir=PATH, tar=TARFILE or ref=COMMIT)")
		f.StringArrayVar(&o.metaStrings, "add-metadata-string", nil, "add a key/value pair to metadata")
		f.StringArrayVar(&o.metaVariants, "add-metadata", nil, "add a key/value pair to metadata, VALUE in GVariant text format")
		f.StringArrayVar(&o.keepMeta, "keep-metadata", nil, "keep metadata KEY and its value from the parent")
		f.StringArrayVar(&o.detachedStrings, "add-detached-metadata-string", nil, "add a key/value pair to detached metadata")
		f.IntVar(&o.ownerUID, "owner-uid", -1, "set file ownership user id")
		f.IntVar(&o.ownerGID, "owner-gid", -1, "set file ownership group id")
		f.BoolVar(&o.canonical, "canonical-permissions", false, "canonicalize permissions as bare-user-only does")
		f.BoolVar(&o.bootable, "bootable", false, "flag this commit as bootable (contains a Linux kernel)")
		f.BoolVar(&o.noXattrs, "no-xattrs", false, "do not import extended attributes")
		f.BoolVar(&o.linkSpeedup, "link-checkout-speedup", false, "optimize for trees composed of hardlinks into the repository")
		f.BoolVarP(&o.devinoCanonical, "devino-canonical", "I", false, "assume hardlinked objects are unmodified; implies --link-checkout-speedup")
		f.BoolVar(&o.tarAutocreate, "tar-autocreate-parents", false, "create parent directories of tar entries (grove always does)")
		f.BoolVar(&o.skipIfUnchanged, "skip-if-unchanged", false, "if the contents are unchanged from the parent, do nothing")
		f.StringVar(&o.statoverride, "statoverride", "", "file with a list of permission changes")
		f.StringVar(&o.skipList, "skip-list", "", "file with a list of paths to skip")
		f.BoolVar(&o.consume, "consume", false, "delete the source directories' content after the commit")
		f.BoolVar(&o.generateSizes, "generate-sizes", false, "generate size information (not supported yet)")
		f.BoolVar(&o.disableFsync, "disable-fsync", false, "do not invoke fsync()")
		f.StringVar(&o.fsync, "fsync", "", "whether to invoke fsync() (true or false)")
		f.StringVar(&o.timestamp, "timestamp", "", "override the timestamp of the commit")
		f.StringArrayVar(&o.gpgSign, "gpg-sign", nil, "GPG Key ID to sign the commit with")
		f.StringVar(&o.gpgHome, "gpg-homedir", "", "GPG Homedir to use when looking for keyrings")
		f.StringArrayVar(&o.signKeys, "sign", nil, "Sign the commit with")
		f.StringVar(&o.signType, "sign-type", "", "Signature type to use (defaults to 'ed25519')")
		f.MarkHidden("disable-fsync")
		return cmd
	})
}

// treeSpec is one resolved --tree argument.
type treeSpec struct {
	kind, arg string
	commit    oid.Checksum // for ref=
}

func runCommit(cmd *cobra.Command, o *commitFlags, args []string) error {
	commitGC()
	ctx := cmd.Context()
	r, err := openRepo(ctx)
	if err != nil {
		return err
	}
	mod := compose.NoModifier()
	mod.OwnerUID, mod.OwnerGID = o.ownerUID, o.ownerGID
	mod.CanonicalPermissions, mod.SkipXattrs = o.canonical, o.noXattrs
	if o.statoverride != "" {
		data, err := os.ReadFile(o.statoverride)
		if err != nil {
			return fmt.Errorf("reading statoverride file: %w", err)
		}
		if mod.ModeAdd, mod.ModeSet, err = compose.ParseStatOverride(string(data)); err != nil {
			return fmt.Errorf("%s: %w", o.statoverride, err)
		}
	}
	if o.skipList != "" {
		data, err := os.ReadFile(o.skipList)
		if err != nil {
			return fmt.Errorf("reading skip-list file: %w", err)
		}
		mod.Skip = compose.ParseSkipList(string(data))
	}
	if o.branch == "" && !o.orphan {
		return errors.New("a branch must be specified with --branch, or use --orphan")
	}
	if o.branch != "" {
		if err := oid.ValidateRef(o.branch); err != nil {
			return fmt.Errorf("invalid branch %q: %w", o.branch, err)
		}
	}
	for _, b := range o.bindRefs {
		if err := oid.ValidateRef(b); err != nil {
			return fmt.Errorf("invalid --bind-ref %q: %w", b, err)
		}
	}
	if o.generateSizes {
		return errors.New("--generate-sizes is not supported yet")
	}
	if o.fsync != "" {
		on, err := parseGBool(o.fsync)
		if err != nil {
			return fmt.Errorf("--fsync: %w", err)
		}
		o.disableFsync = !on
	}
	r.SetDisableFsync(o.disableFsync)

	var parent oid.Checksum
	switch {
	case o.parent == "none":
	case o.parent != "":
		if parent, err = r.ResolveRev(ctx, o.parent); err != nil {
			return fmt.Errorf("parent commit %s: %w", o.parent, err)
		}
		if _, err := r.LoadCommit(ctx, parent); err != nil {
			return fmt.Errorf("parent commit %s: %w", o.parent, err)
		}
	case !o.orphan:
		parent, err = r.ReadRef(ctx, "", o.branch)
		if err != nil && !errors.Is(err, repo.ErrRefNotFound) {
			return fmt.Errorf("branch %s: %w", o.branch, err)
		}
	}
	if parent.IsZero() && len(o.keepMeta) > 0 {
		return errors.New("either --branch or --parent must be specified when using --keep-metadata")
	}

	// Metadata in ostree's order: strings, variants, kept keys, then bindings.
	meta, err := compose.ParseKeyValues(o.metaStrings, false)
	if err != nil {
		return err
	}
	vars, err := compose.ParseKeyValues(o.metaVariants, true)
	if err != nil {
		return err
	}
	meta = append(meta, vars...)
	if len(o.keepMeta) > 0 {
		pc, err := r.LoadCommit(ctx, parent)
		if err != nil {
			return fmt.Errorf("parent commit %s: %w", parent, err)
		}
		for _, k := range o.keepMeta {
			v, ok := compose.LookupMeta(pc.Metadata, k)
			if !ok {
				return fmt.Errorf("missing metadata key '%s' from commit '%s'", k, parent)
			}
			meta = append(meta, gvariant.DictEntry{Key: k, Value: v})
		}
	}
	var detached []gvariant.DictEntry
	if len(o.detachedStrings) > 0 {
		if detached, err = compose.ParseKeyValues(o.detachedStrings, false); err != nil {
			return err
		}
	}
	if o.canonical && o.ownerUID > 0 {
		return errors.New("cannot specify both --canonical-permissions and non-zero --owner-uid")
	}
	if o.canonical && o.ownerGID > 0 {
		return errors.New("cannot specify both --canonical-permissions and non-zero --owner-gid")
	}
	body := o.body
	if o.bodyFile != "" {
		data, err := os.ReadFile(o.bodyFile)
		if err != nil {
			return fmt.Errorf("reading body file: %w", err)
		}
		body = string(data)
	}
	ts := time.Now()
	if o.timestamp != "" {
		if ts, err = compose.ParseTimestamp(o.timestamp, ts); err != nil {
			return fmt.Errorf("--timestamp: %w", err)
		}
	}

	specs, err := resolveTrees(ctx, r, o, args)
	if err != nil {
		return err
	}
	signers, err := commitSigners(ctx, o)
	if err != nil {
		return err
	}
	tx, err := r.Begin(ctx)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			tx.Abort()
		}
	}()

	if o.linkSpeedup || o.devinoCanonical {
		if mod.DevIno, err = tx.ScanHardlinks(ctx); err != nil {
			return err
		}
	}

	var root *compose.Tree
	for _, s := range specs {
		var t *compose.Tree
		switch s.kind {
		case "dir":
			m := treeModifier(mod)
			dropDirModeAdds(mod, m, s.arg)
			t, err = compose.ImportDir(ctx, tx, s.arg, m, nil)
			consumeMatched(mod, m)
		case "tar":
			m := treeModifier(mod)
			t, err = importTar(ctx, tx, s.arg, m)
			consumeMatched(mod, m)
		case "ref":
			m := treeModifier(mod)
			t, err = compose.TreeFromCommitModified(ctx, tx, s.commit, m)
			consumeMatched(mod, m)
		}
		if err != nil {
			return err
		}
		if root == nil {
			root = t
		} else if err := root.Merge(ctx, r, t); err != nil {
			return err
		}
	}
	if un := unmatched(mod); un != nil {
		return un
	}

	if o.skipIfUnchanged && !parent.IsZero() {
		pc, err := r.LoadCommit(ctx, parent)
		if err != nil {
			return fmt.Errorf("parent commit %s: %w", parent, err)
		}
		sum, err := root.Write(ctx, tx)
		if err != nil {
			return err
		}
		if sum == pc.RootTree && root.Meta == pc.RootMeta {
			fmt.Fprintln(cmd.OutOrStdout(), parent)
			return nil
		}
	}
	if !o.noBindings {
		var refs []string
		if o.branch != "" {
			refs = append(refs, o.branch)
		}
		meta = compose.AddBindings(meta, append(refs, o.bindRefs...), r.Config().String("core", "collection-id", ""))
	}
	if o.bootable {
		if meta, err = compose.BootableMetadata(ctx, r, root, meta); err != nil {
			return err
		}
	}
	// A signed commit's ref moves only once the signatures are stored.
	branch := o.branch
	if len(signers) > 0 {
		branch = ""
	}
	sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{
		Subject: o.subject, Body: body, Parent: parent, Timestamp: ts,
		Metadata: meta, Detached: detached, Branch: branch,
	})
	if err != nil {
		return err
	}
	committed = true
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	if len(signers) > 0 {
		if err := sign.SignCommit(ctx, r, sum, signers...); err != nil {
			return err
		}
		if o.branch != "" {
			if err := r.SetRef(ctx, "", o.branch, sum); err != nil {
				return err
			}
		}
	}
	if o.consume {
		for _, s := range specs {
			if s.kind == "dir" {
				if err := removeContents(s.arg); err != nil {
					return fmt.Errorf("--consume: %w", err)
				}
			}
		}
	}
	fmt.Fprintln(cmd.OutOrStdout(), sum)
	return nil
}

// commitSigners resolves --sign (ed25519 first, as ostree signs) and
// --gpg-sign keys before anything is written.
func commitSigners(ctx context.Context, o *commitFlags) ([]sign.Signer, error) {
	var out []sign.Signer
	for _, k := range o.signKeys {
		s, err := sign.NewEngineSigner(o.signType, k)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	for _, k := range o.gpgSign {
		s, err := sign.NewGPGSigner(ctx, k, o.gpgHome)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// resolveTrees checks every tree source before anything is written, so that
// a bad argument leaves the repository untouched.
func resolveTrees(ctx context.Context, r *repo.Repo, o *commitFlags, args []string) ([]treeSpec, error) {
	trees := o.trees
	if len(trees) == 0 {
		p := "."
		if len(args) > 0 {
			p = args[0]
		}
		trees = []string{"dir=" + p}
	}
	var specs []treeSpec
	for _, t := range trees {
		kind, arg, ok := strings.Cut(t, "=")
		if !ok {
			return nil, fmt.Errorf("missing type in tree specification '%s'", t)
		}
		s := treeSpec{kind: kind, arg: arg}
		switch kind {
		case "dir":
			st, err := os.Stat(arg)
			if err != nil {
				return nil, fmt.Errorf("tree %s: %w", t, err)
			}
			if !st.IsDir() {
				return nil, fmt.Errorf("tree %s: %s is not a directory", t, arg)
			}
		case "tar":
			if arg != "-" {
				if _, err := os.Stat(arg); err != nil {
					return nil, fmt.Errorf("tree %s: %w", t, err)
				}
			}
		case "ref":
			sum, err := r.ResolveRev(ctx, arg)
			if err != nil {
				return nil, fmt.Errorf("tree %s: %w", t, err)
			}
			if _, err := r.LoadCommit(ctx, sum); err != nil {
				return nil, fmt.Errorf("tree %s: %w", t, err)
			}
			s.commit = sum
		default:
			return nil, fmt.Errorf("invalid tree type specification '%s'", kind)
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// treeModifier copies mod for one --tree: ostree removes a statoverride or
// skip-list path from its table once it matched, so a later tree holding the
// same path is not modified again.
func treeModifier(mod *compose.Modifier) *compose.Modifier {
	m := compose.NoModifier()
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

// dropDirModeAdds reproduces a quirk of ostree 2022.7: the filter runs twice
// on a subdirectory, first to decide whether to skip it, then for its
// dirmeta; the first call consumes the statoverride entry, so the bits are
// never applied to a directory other than the root, yet the path counts as
// matched.
func dropDirModeAdds(mod, m *compose.Modifier, src string) {
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
func consumeMatched(mod, used *compose.Modifier) {
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

// unmatched reports statoverride and skip-list paths that matched no file,
// which ostree treats as errors.
func unmatched(mod *compose.Modifier) error {
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

// parseGBool accepts the booleans ostree's --fsync takes.
func parseGBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "true", "yes":
		return true, nil
	case "0", "false", "no", "none":
		return false, nil
	}
	if b, err := strconv.ParseBool(s); err == nil {
		return b, nil
	}
	return false, fmt.Errorf("invalid boolean: %s", s)
}

// importTar reads a tarball (or stdin for "-") into a tree.
func importTar(ctx context.Context, tx *repo.Txn, path string, mod *compose.Modifier) (*compose.Tree, error) {
	in := os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("tree tar=%s: %w", path, err)
		}
		defer f.Close()
		in = f
	}
	t, err := compose.ImportTar(ctx, tx, in, mod, nil)
	if err != nil {
		return nil, fmt.Errorf("tree tar=%s: %w", path, err)
	}
	return t, nil
}

// commitGC lets commit's heap grow to five times what is live (GOGC=400)
// before the collector runs, unless $GOGC says otherwise: a re-commit
// runs for tens of milliseconds on a small live heap, where the default
// spent a tenth of its CPU collecting (62 → 58 ms on the bench tree).
// Only commit: for ls -R, whose garbage is most of what it allocates, the
// fresh memory cost more in page faults than collecting saved (178 →
// 213 ms), so the other verbs keep the default.
func commitGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
