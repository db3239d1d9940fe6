package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/inspect"
)

func init() { register(newRevParseCmd) }

func newRevParseCmd() *cobra.Command {
	var single bool
	cmd := &cobra.Command{
		Use:   "rev-parse [OPTION…] REV",
		Short: "Output the target of a rev",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if single && len(args) > 0 {
				return errors.New("Cannot specify arguments with --single")
			}
			if !single && len(args) < 1 {
				return errors.New("REV must be specified")
			}
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			if single {
				all, err := inspect.CommitsWithPrefix(ctx, r, "")
				if err != nil {
					return err
				}
				switch len(all) {
				case 0:
					return errors.New("No commit objects found")
				case 1:
					fmt.Println(all[0])
					return nil
				}
				return errors.New("Multiple commit objects found")
			}
			for _, rev := range args {
				sum, err := inspect.ResolveRev(ctx, r, rev)
				if err != nil {
					return err
				}
				fmt.Println(sum)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&single, "single", "S", false, "If the repository has exactly one commit, then print it; any other case will result in an error")
	return cmd
}
