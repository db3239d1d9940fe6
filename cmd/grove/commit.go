package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/sign"
	"github.com/groveos/grove/core/textual"
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

func runCommit(cmd *cobra.Command, o *commitFlags, args []string) error {
	commitGC()
	ctx := cmd.Context()
	r, err := openRepo(ctx)
	if err != nil {
		return err
	}
	spec, err := o.spec(args)
	if err != nil {
		return err
	}
	if o.fsync != "" {
		on, err := textual.ParseBool(o.fsync)
		if err != nil {
			return fmt.Errorf("--fsync: %w", err)
		}
		o.disableFsync = !on
	}
	r.SetDisableFsync(o.disableFsync)
	// Keys are resolved before anything is written.
	signers, err := commitSigners(ctx, o)
	if err != nil {
		return err
	}
	if len(signers) > 0 {
		spec.Sign = sign.SignHook(r, signers...)
	}
	var done func()
	spec.Progress, done = progressBar("commit")
	res, err := compose.Commit(ctx, r, spec)
	done()
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), res.Commit)
	return nil
}

// commitSigners resolves --sign (ed25519 first, as ostree signs) and
// --gpg-sign keys.
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

// spec turns the flags into a compose.Spec, reading the files they name.
func (o *commitFlags) spec(args []string) (compose.Spec, error) {
	spec := compose.Spec{
		Branch: o.branch, Orphan: o.orphan, Parent: o.parent,
		Subject: o.subject, Body: o.body,
		KeepMetadata: o.keepMeta, BindRefs: o.bindRefs, NoBindings: o.noBindings, Bootable: o.bootable,
		LinkCheckoutSpeedup: o.linkSpeedup || o.devinoCanonical,
		SkipIfUnchanged:     o.skipIfUnchanged, Consume: o.consume,
	}
	if o.generateSizes {
		return spec, errors.New("--generate-sizes is not supported yet")
	}
	mod := compose.NoModifier()
	mod.OwnerUID, mod.OwnerGID = o.ownerUID, o.ownerGID
	mod.CanonicalPermissions, mod.SkipXattrs = o.canonical, o.noXattrs
	if o.statoverride != "" {
		data, err := os.ReadFile(o.statoverride)
		if err != nil {
			return spec, fmt.Errorf("reading statoverride file: %w", err)
		}
		if mod.ModeAdd, mod.ModeSet, err = compose.ParseStatOverride(string(data)); err != nil {
			return spec, fmt.Errorf("%s: %w", o.statoverride, err)
		}
	}
	if o.skipList != "" {
		data, err := os.ReadFile(o.skipList)
		if err != nil {
			return spec, fmt.Errorf("reading skip-list file: %w", err)
		}
		mod.Skip = compose.ParseSkipList(string(data))
	}
	spec.Modifier = mod

	// Metadata in ostree's order: strings, then variants (kept keys and
	// bindings follow in compose.Commit).
	meta, err := compose.ParseKeyValues(o.metaStrings, false)
	if err != nil {
		return spec, err
	}
	vars, err := compose.ParseKeyValues(o.metaVariants, true)
	if err != nil {
		return spec, err
	}
	spec.Metadata = append(meta, vars...)
	if len(o.detachedStrings) > 0 {
		if spec.Detached, err = compose.ParseKeyValues(o.detachedStrings, false); err != nil {
			return spec, err
		}
	}
	if o.bodyFile != "" {
		data, err := os.ReadFile(o.bodyFile)
		if err != nil {
			return spec, fmt.Errorf("reading body file: %w", err)
		}
		spec.Body = string(data)
	}
	spec.Timestamp = time.Now()
	if o.timestamp != "" {
		if spec.Timestamp, err = textual.ParseDate(o.timestamp, spec.Timestamp); err != nil {
			return spec, err
		}
	}
	trees := o.trees
	if len(trees) == 0 {
		p := "."
		if len(args) > 0 {
			p = args[0]
		}
		trees = []string{"dir=" + p}
	}
	for _, t := range trees {
		ts, err := compose.ParseTreeSource(t)
		if err != nil {
			return spec, err
		}
		ts.Stdin = os.Stdin
		spec.Trees = append(spec.Trees, ts)
	}
	return spec, nil
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
