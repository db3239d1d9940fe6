package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/textual"
	"github.com/spf13/cobra"
)

func init() { register(newCheckoutCmd) }

type checkoutFlags struct {
	user, union, unionAdd, unionIdentical    bool
	whiteouts, allowNoent, requireHardlinks  bool
	forceCopy, forceCopyZerosized, bareDirs  bool
	disableCache, fromStdin, passthroughWhts bool
	subpath, fromFile, fsync                 string
}

func newCheckoutCmd() *cobra.Command {
	var f checkoutFlags
	cmd := &cobra.Command{
		Use:   "checkout [OPTION…] COMMIT [DESTINATION]",
		Short: "Check out a commit into a filesystem tree",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheckout(cmd.Context(), &f, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.user, "user-mode", "U", false, "Do not change file ownership or initialize extended attributes")
	fl.BoolVar(&f.disableCache, "disable-cache", false, "Do not update or use the internal repository uncompressed object cache")
	fl.StringVar(&f.subpath, "subpath", "", "Checkout sub-directory PATH")
	fl.BoolVar(&f.union, "union", false, "Keep existing directories, overwrite existing files")
	fl.BoolVar(&f.unionAdd, "union-add", false, "Keep existing files/directories, only add new")
	fl.BoolVar(&f.unionIdentical, "union-identical", false, "When layering checkouts, error out if a file would be replaced with a different version, but add new files and directories")
	fl.BoolVar(&f.whiteouts, "whiteouts", false, "Process 'whiteout' (Docker style) entries")
	fl.BoolVar(&f.passthroughWhts, "process-passthrough-whiteouts", false, "Enable overlayfs whiteout extraction into char 0:0 devices")
	fl.BoolVar(&f.allowNoent, "allow-noent", false, "Do nothing if specified path does not exist")
	fl.BoolVar(&f.fromStdin, "from-stdin", false, "Process many checkouts from standard input")
	fl.StringVar(&f.fromFile, "from-file", "", "Process many checkouts from input file")
	fl.StringVar(&f.fsync, "fsync", "", "Specify how to invoke fsync()")
	fl.BoolVarP(&f.requireHardlinks, "require-hardlinks", "H", false, "Do not fall back to full copies if hardlinking fails")
	fl.BoolVarP(&f.forceCopyZerosized, "force-copy-zerosized", "z", false, "Do not hardlink zero-sized files")
	_ = fl.MarkHidden("force-copy-zerosized")
	fl.BoolVarP(&f.forceCopy, "force-copy", "C", false, "Never hardlink (but may reflink if available)")
	fl.BoolVarP(&f.bareDirs, "bareuseronly-dirs", "M", false, "Suppress mode bits outside of 0775 for directories (suid, world writable, etc.)")
	return cmd
}

func (f *checkoutFlags) options() (checkout.Options, error) {
	o := checkout.Options{
		User:             f.user,
		RequireHardlinks: f.requireHardlinks,
		ForceCopy:        f.forceCopy,
		Whiteouts:        f.whiteouts,
		AllowNoent:       f.allowNoent,
		BareUserOnlyDirs: f.bareDirs,
	}
	// ostree's plain checkout path (no option of the "at" API) uses the
	// uncompressed object cache of archive repositories.
	o.UseUncompressedCache = !(f.disableCache || f.whiteouts || f.requireHardlinks || f.unionAdd ||
		f.forceCopy || f.forceCopyZerosized || f.bareDirs || f.unionIdentical)
	if f.passthroughWhts {
		return o, errors.New("--process-passthrough-whiteouts is not supported")
	}
	if f.fsync != "" {
		v, err := textual.ParseBool(f.fsync)
		if err != nil {
			return o, err
		}
		o.Fsync = v
	}
	switch {
	case f.union && f.unionAdd:
		return o, errors.New("Cannot specify both --union and --union-add")
	case f.union && f.unionIdentical:
		return o, errors.New("Cannot specify both --union and --union-identical")
	case f.unionAdd && f.unionIdentical:
		return o, errors.New("Cannot specify both --union-add and --union-identical")
	case f.requireHardlinks && f.forceCopy:
		return o, errors.New("Cannot specify both --require-hardlinks and --force-copy")
	case f.union:
		o.Mode = checkout.OverwriteUnion
	case f.unionAdd:
		o.Mode = checkout.OverwriteUnionAdd
	case f.unionIdentical:
		if !f.requireHardlinks {
			return o, errors.New("--union-identical requires --require-hardlinks")
		}
		o.Mode = checkout.OverwriteUnionIdentical
	}
	return o, nil
}

func runCheckout(ctx context.Context, f *checkoutFlags, args []string) error {
	opts, err := f.options()
	if err != nil {
		return err
	}
	r, err := openRepo(ctx)
	if err != nil {
		return err
	}
	if f.fromStdin || f.fromFile != "" {
		var in io.Reader = os.Stdin
		if f.fromFile != "" {
			fh, err := os.Open(f.fromFile)
			if err != nil {
				return err
			}
			defer fh.Close()
			in = fh
		}
		return checkoutMany(ctx, r, in, args[0], opts)
	}
	dest := args[0]
	if len(args) > 1 {
		dest = args[1]
	}
	if f.subpath != "" {
		opts.Subpath = f.subpath
	}
	return checkoutOne(ctx, r, args[0], dest, opts)
}

func checkoutOne(ctx context.Context, r *repo.Repo, rev, dest string, opts checkout.Options) error {
	sum, err := r.ResolveRev(ctx, rev)
	if err != nil {
		return err
	}
	var done func()
	opts.Progress, done = progressBar("checkout")
	err = checkout.Checkout(ctx, r, sum, dest, opts)
	done()
	if err != nil {
		return fmt.Errorf("checking out %s to %s: %w", rev, dest, err)
	}
	return nil
}

// checkoutMany reads NUL-separated "REVISION\0SUBPATH\0" pairs, as
// ostree's --from-stdin/--from-file do, and checks each out into dest.
func checkoutMany(ctx context.Context, r *repo.Repo, in io.Reader, dest string, opts checkout.Options) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, 0); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		rev := sc.Text()
		if rev == "" {
			break
		}
		sub := ""
		if sc.Scan() {
			sub = sc.Text()
		}
		o := opts
		o.Subpath = sub
		sum, err := r.ResolveRev(ctx, rev)
		if err != nil {
			return err
		}
		if err := checkout.Checkout(ctx, r, sum, dest, o); err != nil {
			return fmt.Errorf("Processing tree %s: %w", sum, err)
		}
	}
	return sc.Err()
}
