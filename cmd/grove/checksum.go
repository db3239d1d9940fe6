package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/inspect"
)

func init() { register(newChecksumCmd) }

func newChecksumCmd() *cobra.Command {
	var ignoreXattrs bool
	cmd := &cobra.Command{
		Use:   "checksum [OPTION…] PATH",
		Short: "Checksum a file or directory",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("A filename must be given")
			}
			// Like ostree 2022.7, only the first PATH is used.
			sum, err := inspect.ChecksumPath(cmd.Context(), args[0], ignoreXattrs)
			if err != nil {
				return err
			}
			fmt.Println(sum)
			return nil
		},
	}
	cmd.Flags().BoolVar(&ignoreXattrs, "ignore-xattrs", false, "Don't include xattrs in checksum")
	return cmd
}
