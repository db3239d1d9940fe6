package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/admin"
)

func init() {
	registerAdmin(newAdminUndeployCmd)
	registerAdmin(newAdminPinCmd)
	registerAdmin(newAdminCleanupCmd)
}

// parseIndex reads a deployment index; unlike ostree's atoi, which
// turns "x" into 0 and undeploys the default, a non-number is an error.
func parseIndex(a string) (int, error) {
	n, err := strconv.ParseUint(a, 10, 31)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("Index too large: %s", a)
		}
		return 0, fmt.Errorf("Invalid index: %s", a)
	}
	return int(n), nil
}

func newAdminUndeployCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "undeploy INDEX",
		Short: "Delete deployment INDEX",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, true)
			if err != nil {
				return err
			}
			defer s.Unlock()
			if len(args) < 1 {
				return errors.New("INDEX must be specified")
			}
			n, err := parseIndex(args[0])
			if err != nil {
				return err
			}
			d, err := admin.Undeploy(ctx, s, n)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted deployment %s.%d\n", d.Checksum, d.Serial)
			if _, err := s.Cleanup(ctx, sysroot.CleanupOptions{Prune: true}); err != nil {
				return fmt.Errorf("Performing final cleanup: %w", err)
			}
			return nil
		},
	}
}

func newAdminPinCmd() *cobra.Command {
	var unpin bool
	cmd := &cobra.Command{
		Use:   "pin [--unpin] INDEX…",
		Short: "Change the \"pinning\" state of a deployment",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, true)
			if err != nil {
				return err
			}
			defer s.Unlock()
			if len(args) < 1 {
				return errors.New("INDEX must be specified")
			}
			for _, a := range args {
				n, err := parseIndex(a)
				if err != nil {
					return err
				}
				d, err := admin.Deployment(s, n)
				if err != nil {
					return err
				}
				changed, err := admin.SetPinned(s, d, !unpin)
				if err != nil {
					return err
				}
				state := "pinned"
				if unpin {
					state = "unpinned"
				}
				if changed {
					fmt.Fprintf(cmd.OutOrStdout(), "Deployment %s is now %s\n", a, state)
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "Deployment %s is already %s\n", a, state)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&unpin, "unpin", "u", false, "Unset pin")
	return cmd
}

func newAdminCleanupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cleanup",
		Short: "Delete untagged deployments and repository objects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, true)
			if err != nil {
				return err
			}
			defer s.Unlock()
			_, err = s.Cleanup(ctx, sysroot.CleanupOptions{Prune: true})
			return err
		},
	}
}
