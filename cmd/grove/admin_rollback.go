package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/sysroot/admin"
)

func init() { registerAdmin(newAdminRollbackCmd) }

func newAdminRollbackCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rollback",
		Short: "Make the previous deployment the default again (rolling back twice returns)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := openSysroot(ctx, cmd, true)
			if err != nil {
				return err
			}
			defer s.Unlock()
			from, to, err := admin.Rollback(ctx, s, ag.os)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Moving '%s.%d' to be first deployment; '%s.%d' is now the rollback target\n", to.Checksum, to.Serial, from.Checksum, from.Serial)
			return nil
		},
	}
}
