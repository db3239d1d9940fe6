package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/sysroot"
)

func init() {
	registerAdmin(newAdminInitFSCmd)
	registerAdmin(func() *cobra.Command { return newAdminOSInitCmd("os-init") })
	registerAdmin(func() *cobra.Command { return newAdminOSInitCmd("stateroot-init") })
}

func newAdminInitFSCmd() *cobra.Command {
	var modern bool
	cmd := &cobra.Command{
		Use:   "init-fs [--modern] PATH",
		Short: "Initialize a root filesystem",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("PATH must be specified")
			}
			return sysroot.InitFS(cmd.Context(), args[0], sysroot.InitFSOptions{Modern: modern})
		},
	}
	cmd.Flags().BoolVar(&modern, "modern", false, "Only create /boot and /ostree")
	return cmd
}

func newAdminOSInitCmd(name string) *cobra.Command {
	short := "Initialize empty state for given operating system"
	if name == "stateroot-init" {
		short = "Initialize empty state for given stateroot (os-init)"
	}
	return &cobra.Command{
		Use:   name + " OSNAME",
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, false)
			if err != nil {
				return err
			}
			if len(args) < 1 {
				return errors.New("OSNAME must be specified")
			}
			if err := s.InitStateroot(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ostree/deploy/%s initialized as OSTree root\n", args[0])
			return nil
		},
	}
}
