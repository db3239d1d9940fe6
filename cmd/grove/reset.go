package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func init() { register(newResetCmd) }

func newResetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reset [OPTION…] REF COMMIT",
		Short: "Reset a REF to a previous COMMIT",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			if len(args) < 2 {
				return errors.New("A REF and COMMIT argument is required")
			}
			_, err = r.ResetRef(ctx, args[0], args[1])
			return err
		},
	}
}
