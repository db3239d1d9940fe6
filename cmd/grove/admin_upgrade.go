package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/sysroot/admin"
)

func init() {
	registerAdmin(newAdminUpgradeCmd)
	registerAdmin(newAdminSwitchCmd)
}

func newAdminUpgradeCmd() *cobra.Command {
	var o admin.UpgradeOptions
	cmd := &cobra.Command{
		Use:   "upgrade [OPTION…]",
		Short: "Construct new tree from current origin and deploy it, if it changed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if o.PullOnly && o.DeployOnly {
				return errors.New("Cannot simultaneously specify --pull-only and --deploy-only")
			}
			s, err := openSysroot(ctx, cmd, !o.DryRun)
			if err != nil {
				return err
			}
			defer s.Unlock()
			o.Stateroot = ag.os
			var clearBar func()
			o.Progress, clearBar = progressBar("Upgrading")
			res, err := admin.Upgrade(ctx, s, o)
			clearBar()
			if err != nil {
				return err
			}
			if !res.Changed {
				fmt.Fprintln(cmd.OutOrStdout(), "No update available.")
			} else if res.Plan != nil {
				printPlan(cmd.OutOrStdout(), res.Plan)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.AllowDowngrade, "allow-downgrade", false, "Permit deployment of chronologically older trees")
	f.StringVar(&o.OverrideCommit, "override-commit", "", "Deploy CHECKSUM instead of the latest tree")
	f.BoolVar(&o.PullOnly, "pull-only", false, "Do not create a deployment, just download")
	f.BoolVar(&o.DeployOnly, "deploy-only", false, "Do not pull, only deploy")
	f.BoolVar(&o.DryRun, "dry-run", false, "Show what would be deployed and the /etc merge preview; change nothing (no pull)")
	return cmd
}

func newAdminSwitchCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "switch REFSPEC",
		Short: "Construct new tree from REFSPEC and deploy it",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, !dryRun)
			if err != nil {
				return err
			}
			defer s.Unlock()
			if len(args) < 1 {
				return errors.New("REFSPEC must be specified")
			}
			bar, clearBar := progressBar("Switching")
			res, err := admin.Upgrade(ctx, s, admin.UpgradeOptions{Stateroot: ag.os, NewRefspec: args[0], DryRun: dryRun, Progress: bar})
			clearBar()
			if err != nil {
				return err
			}
			if dryRun {
				if res.Plan != nil {
					printPlan(cmd.OutOrStdout(), res.Plan)
				} else {
					fmt.Fprintln(cmd.OutOrStdout(), "No change: the new ref points at the deployed commit.")
				}
				return nil
			}
			remote, ref := splitRefspec(res.OldRefspec)
			shown := remote
			if remote == "" {
				shown = "(null)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleting ref '%s:%s'\n", shown, ref)
			return admin.DeleteRef(ctx, s, remote, ref)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Show what would be deployed and the /etc merge preview; change nothing (no pull)")
	return cmd
}

func splitRefspec(spec string) (remote, ref string) {
	for i := 0; i < len(spec); i++ {
		if spec[i] == ':' {
			return spec[:i], spec[i+1:]
		}
	}
	return "", spec
}
