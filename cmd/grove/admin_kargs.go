package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/admin"
)

func init() {
	registerAdmin(newAdminKargsCmd)
	registerAdmin(newAdminUnlockCmd)
}

func newAdminKargsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kargs COMMAND",
		Short: "Change kernel arguments",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New(`No "admin kargs" subcommand specified`)
			}
			return fmt.Errorf(`Unknown "admin kargs" subcommand '%s'`, args[0])
		},
	}
	var appendIfMissing []string
	edit := &cobra.Command{
		Use:   "edit-in-place [--append-if-missing=NAME=VALUE]…",
		Short: "Set new kernel command line arguments in place (applies to all deployments by default)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, true)
			if err != nil {
				return err
			}
			defer s.Unlock()
			return admin.AppendKargsIfMissing(s, appendIfMissing)
		},
	}
	edit.Flags().StringArrayVar(&appendIfMissing, "append-if-missing", nil, "Append kernel arguments if they do not exist")
	cmd.AddCommand(edit)
	return cmd
}

func newAdminUnlockCmd() *cobra.Command {
	var hotfix, transient bool
	cmd := &cobra.Command{
		Use:   "unlock [--hotfix|--transient]",
		Short: "Make the current deployment mutable (as a hotfix or development)",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, true)
			if err != nil {
				return err
			}
			defer s.Unlock()
			if len(args) > 0 {
				return errors.New("This command takes no extra arguments")
			}
			if s.Booted() == nil {
				return errors.New("Not currently booted into an OSTree system")
			}
			state := sysroot.UnlockedDevelopment
			switch {
			case hotfix && transient:
				return errors.New("Cannot specify both --hotfix and --transient")
			case hotfix:
				state = sysroot.UnlockedHotfix
			case transient:
				state = sysroot.UnlockedTransient
			}
			if err := admin.Unlock(ctx, s, state); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch state {
			case sysroot.UnlockedHotfix:
				fmt.Fprint(out, "Hotfix mode enabled.  A writable overlayfs is now mounted on /usr\n"+
					"for this booted deployment.  A non-hotfixed clone has been created\n"+
					"as the non-default rollback target.\n")
			case sysroot.UnlockedDevelopment:
				fmt.Fprint(out, "Development mode enabled.  A writable overlayfs is now mounted on /usr.\n"+
					"All changes there will be discarded on reboot.\n")
			case sysroot.UnlockedTransient:
				fmt.Fprint(out, "A writable overlayfs is prepared for /usr, but is mounted read-only by default.\n"+
					"All changes there will be discarded on reboot.\n")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&hotfix, "hotfix", false, "Retain changes across reboots")
	cmd.Flags().BoolVar(&transient, "transient", false, "Mount overlayfs read-only by default")
	return cmd
}
