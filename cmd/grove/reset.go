package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/oid"
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
			ref, target := args[0], args[1]
			// ostree only requires REF to exist; COMMIT need not be an ancestor.
			known, err := inspect.ListRefs(ctx, r, "", true, false)
			if err != nil {
				return err
			}
			if _, ok := known[ref]; !ok {
				return fmt.Errorf("Invalid ref '%s'", ref)
			}
			sum, err := inspect.ResolveRev(ctx, r, target)
			if err != nil {
				return err
			}
			remote, name, err := oid.ParseRefspec(ref)
			if err != nil {
				return fmt.Errorf("Invalid ref '%s': %w", ref, err)
			}
			return r.SetRef(ctx, remote, name, sum)
		},
	}
}
