package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/admin"
)

func init() {
	registerAdmin(newAdminSetOriginCmd)
	registerAdmin(newAdminConfigDiffCmd)
}

func newAdminSetOriginCmd() *cobra.Command {
	var sets []string
	var index int
	cmd := &cobra.Command{
		Use:   "set-origin REMOTENAME URL [BRANCH]",
		Short: "Set Origin and create a new origin file",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, true)
			if err != nil {
				return err
			}
			defer s.Unlock()
			if len(args) < 2 {
				return errors.New("REMOTENAME and URL must be specified")
			}
			var d *sysroot.Deployment
			if index == -1 {
				if d = s.Booted(); d == nil {
					return errors.New("Not currently booted into an OSTree system")
				}
			} else if d, err = admin.Deployment(s, index); err != nil {
				return err
			}
			var opts [][2]string
			for _, kv := range sets {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("Missing '=' in KEY=VALUE pair '%s'", kv)
				}
				opts = append(opts, [2]string{k, v})
			}
			branch := ""
			if len(args) > 2 {
				branch = args[2]
			}
			return admin.SetOrigin(ctx, s, d, args[0], args[1], branch, opts)
		},
	}
	cmd.Flags().StringArrayVarP(&sets, "set", "s", nil, "Set config option KEY=VALUE for remote")
	cmd.Flags().IntVar(&index, "index", -1, "Operate on the deployment INDEX, starting from zero")
	return cmd
}

func newAdminConfigDiffCmd() *cobra.Command {
	var showDiff bool
	cmd := &cobra.Command{
		Use:   "config-diff",
		Short: "Diff current /etc configuration versus default",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, false)
			if err != nil {
				return err
			}
			if err := requireBootedOrOS(s); err != nil {
				return err
			}
			d := s.Booted()
			if ag.os != "" {
				if d = s.MergeDeployment(ag.os); d == nil {
					return fmt.Errorf("No deployment for OS '%s'", ag.os)
				}
			}
			return admin.ConfigDiff(ctx, s, d, cmd.OutOrStdout(), showDiff)
		},
	}
	cmd.Flags().BoolVar(&showDiff, "diff", false, "Also print a unified diff of each change")
	return cmd
}
