package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/groveos/grove/core/prune"
	"github.com/groveos/grove/core/textual"
	"github.com/spf13/cobra"
)

func init() { register(newPruneCmd) }

func newPruneCmd() *cobra.Command {
	var opts prune.Options
	var deleteCommit, keepYounger string
	var staticDeltasOnly bool
	var retain, only []string
	cmd := &cobra.Command{
		Use:   "prune [OPTION…]",
		Short: "Search for unreachable objects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			if staticDeltasOnly {
				return errors.New("--static-deltas-only is not supported yet")
			}
			if deleteCommit != "" {
				if opts.NoPrune {
					return errors.New("Cannot specify both --delete-commit and --no-prune")
				}
				sum, err := r.ResolveRev(ctx, deleteCommit)
				if err != nil {
					return err
				}
				if err := prune.DeleteCommit(ctx, r, sum); err != nil {
					return err
				}
			}
			if keepYounger != "" {
				t, err := textual.ParseDate(keepYounger, time.Now())
				if err != nil {
					return err
				}
				opts.KeepYoungerThan = t
			}
			for _, bd := range retain {
				b, d, ok := strings.Cut(bd, "=")
				if !ok {
					return fmt.Errorf("Invalid value %s, must specify BRANCH=DEPTH", bd)
				}
				n, err := strconv.Atoi(d)
				if err != nil {
					return fmt.Errorf("Invalid depth %s", d)
				}
				if opts.RetainBranchDepth == nil {
					opts.RetainBranchDepth = map[string]int{}
				}
				opts.RetainBranchDepth[b] = n
			}
			opts.OnlyBranches = only
			res, err := prune.Prune(ctx, r, opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if opts.CommitOnly {
				fmt.Fprintf(out, "Total (commit only) objects: %d\n", res.Total)
			} else {
				fmt.Fprintf(out, "Total objects: %d\n", res.Total)
			}
			switch {
			case res.Pruned == 0:
				fmt.Fprintln(out, "No unreachable objects")
			case opts.NoPrune:
				fmt.Fprintf(out, "Would delete: %d objects, freeing %s\n", res.Pruned, textual.FormatSize(res.Freed))
			default:
				fmt.Fprintf(out, "Deleted %d objects, %s freed\n", res.Pruned, textual.FormatSize(res.Freed))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.NoPrune, "no-prune", false, "Only display unreachable objects; don't delete")
	fl.BoolVar(&opts.RefsOnly, "refs-only", false, "Only compute reachability via refs")
	fl.IntVar(&opts.Depth, "depth", -1, "Only traverse DEPTH parents for each commit (default: -1=infinite)")
	fl.StringVar(&deleteCommit, "delete-commit", "", "Specify a commit to delete")
	fl.StringVar(&keepYounger, "keep-younger-than", "", "Prune all commits older than the specified date")
	fl.BoolVar(&staticDeltasOnly, "static-deltas-only", false, "Change the behavior of delete-commit and keep-younger-than to prune only static deltas")
	fl.StringArrayVar(&retain, "retain-branch-depth", nil, "Additionally retain BRANCH=DEPTH commits")
	fl.StringArrayVar(&only, "only-branch", nil, "Only prune BRANCH (may be specified multiple times)")
	fl.BoolVar(&opts.CommitOnly, "commit-only", false, "Only traverse and delete commit objects.")
	return cmd
}
