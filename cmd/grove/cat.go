package main

import (
	"errors"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/inspect"
)

func init() { register(newCatCmd) }

func newCatCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cat [OPTION…] COMMIT PATH…",
		Short: "Concatenate contents of files",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return errors.New("A COMMIT and at least one PATH argument are required")
			}
			ctx := cmd.Context()
			r, sum, err := openRepoRev(ctx, args[0])
			if err != nil {
				return err
			}
			root, err := inspect.Root(ctx, r, sum)
			if err != nil {
				return err
			}
			for _, p := range args[1:] {
				rc, err := inspect.OpenPath(ctx, r, root, p)
				if err != nil {
					return err
				}
				_, err = io.Copy(os.Stdout, rc)
				rc.Close()
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
}
