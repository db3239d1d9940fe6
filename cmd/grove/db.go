package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/groveos/grove/core/dpkgdb"
	"github.com/spf13/cobra"
)

func init() { register(newDBCmd) }

func newDBCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db diff|list …",
		Short: "Query the package database (dpkg) of commits",
	}
	cmd.AddCommand(newDBDiffCmd(), newDBListCmd())
	return cmd
}

func newDBDiffCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "diff [--format=block|json] FROM_REV TO_REV",
		Short: "Show the packages that changed between two commits (as rpm-ostree db diff)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "block" && format != "json" {
				return errors.New("Format argument is invalid, pick one of: block, json")
			}
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			from, err := resolveCommit(ctx, r, r, args[0])
			if err != nil {
				return err
			}
			to, err := resolveCommit(ctx, r, r, args[1])
			if err != nil {
				return err
			}
			d, err := dpkgdb.DiffCommits(ctx, r, from, to)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if format == "json" {
				type change struct {
					Name string `json:"name"`
					Arch string `json:"arch"`
					Old  string `json:"old,omitempty"`
					New  string `json:"new,omitempty"`
				}
				conv := func(cs []dpkgdb.Change) []change {
					out := []change{}
					for _, c := range cs {
						out = append(out, change{c.Name, c.Arch, c.Old, c.New})
					}
					return out
				}
				b, err := json.MarshalIndent(map[string]any{
					"ostree-commit-from": from.String(), "ostree-commit-to": to.String(),
					"upgraded": conv(d.Upgraded), "downgraded": conv(d.Downgraded),
					"removed": conv(d.Removed), "added": conv(d.Added),
				}, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(w, "%s\n", b)
				return err
			}
			for _, side := range []struct{ label, rev, sum string }{{"from:", args[0], from.String()}, {"to:  ", args[1], to.String()}} {
				if side.rev == side.sum {
					fmt.Fprintf(w, "ostree diff commit %s %s\n", side.label, side.rev)
				} else {
					fmt.Fprintf(w, "ostree diff commit %s %s (%s)\n", side.label, side.rev, side.sum)
				}
			}
			printPkgDiff(w, d)
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "F", "block", "Output format: block or json")
	return cmd
}

func newDBListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list REV",
		Short: "List the packages installed in a commit",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			sum, err := resolveCommit(ctx, r, r, args[0])
			if err != nil {
				return err
			}
			pkgs, err := dpkgdb.Load(ctx, r, sum)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "ostree commit: %s (%s)\n", args[0], sum)
			for _, p := range pkgs {
				fmt.Fprintf(w, " %s:%s %s\n", p.Name, p.Arch, p.Version)
			}
			return nil
		},
	}
}
