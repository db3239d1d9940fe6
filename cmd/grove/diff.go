package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/groveos/grove/core/diff"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/textual"
	"github.com/groveos/grove/core/traverse"
	"github.com/spf13/cobra"
)

func init() { register(newDiffCmd) }

func newDiffCmd() *cobra.Command {
	var stats, fsDiff, noXattrs bool
	opts := diff.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "diff [OPTION…] REV_OR_DIR REV_OR_DIR",
		Short: "Compare directory TARGETDIR against revision REV",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("REV must be specified")
			}
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			src, target := args[0]+"^", args[0]
			if len(args) > 1 {
				src, target = args[0], args[1]
			}
			if !stats && !fsDiff {
				fsDiff = true
			}
			out := cmd.OutOrStdout()
			opts.NoXattrs = noXattrs
			if fsDiff {
				a, err := diffSource(ctx, r, src)
				if err != nil {
					return err
				}
				b, err := diffSource(ctx, r, target)
				if err != nil {
					return err
				}
				res, err := diff.Diff(ctx, a, b, opts)
				if err != nil {
					return err
				}
				printDiff(out, a, b, res)
			}
			if stats {
				return diffStats(ctx, out, r, src, target)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&stats, "stats", false, "Print various statistics")
	fl.BoolVar(&fsDiff, "fs-diff", false, "Print filesystem diff")
	fl.BoolVar(&noXattrs, "no-xattrs", false, "Skip output of extended attributes")
	fl.IntVar(&opts.OwnerUID, "owner-uid", -1, "Use file ownership user id for local files")
	fl.IntVar(&opts.OwnerGID, "owner-gid", -1, "Use file ownership group id for local files")
	return cmd
}

// diffSource is ostree's parse_file_or_commit: paths start with / or ./.
func diffSource(ctx context.Context, r *repo.Repo, arg string) (diff.Source, error) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, "./") {
		if _, err := os.Lstat(arg); err != nil {
			return diff.Source{}, err
		}
		return diff.Dir(arg), nil
	}
	sum, err := r.ResolveRev(ctx, arg)
	if err != nil {
		return diff.Source{}, err
	}
	return diff.Commit(ctx, r, sum)
}

// printDiff prints like ostree_diff_print: modified and removed named from
// the old side, added from the new; commit paths are absolute, paths on
// disk relative to the directory given.
func printDiff(w io.Writer, a, b diff.Source, res *diff.Result) {
	name := func(s diff.Source, p string) string {
		if s.IsDir() {
			return strings.TrimPrefix(p, "/")
		}
		return p
	}
	for _, it := range res.Modified {
		fmt.Fprintf(w, "M    %s\n", name(a, it.Path))
	}
	for _, it := range res.Removed {
		fmt.Fprintf(w, "D    %s\n", name(a, it.Path))
	}
	for _, it := range res.Added {
		fmt.Fprintf(w, "A    %s\n", name(b, it.Path))
	}
}

func diffStats(ctx context.Context, w io.Writer, r *repo.Repo, src, target string) error {
	var sets [2]map[oid.ObjectName]bool
	for i, rev := range []string{src, target} {
		sum, err := r.ResolveRev(ctx, rev)
		if err != nil {
			return err
		}
		if sets[i], err = traverse.Reachable(ctx, r, []oid.Checksum{sum}, 0); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "[A] Object Count: %d\n", len(sets[0]))
	fmt.Fprintf(w, "[B] Object Count: %d\n", len(sets[1]))
	common := 0
	var size uint64
	for n := range sets[0] {
		if !sets[1][n] {
			continue
		}
		common++
		sz, err := r.StoredSize(ctx, n)
		if err != nil {
			return fmt.Errorf("Querying object %s: %w", n, err)
		}
		size += uint64(sz)
	}
	fmt.Fprintf(w, "Common Object Count: %d\n", common)
	fmt.Fprintf(w, "Common Object Size: %s\n", textual.FormatSize(size))
	return nil
}
