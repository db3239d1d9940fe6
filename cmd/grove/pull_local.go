package main

import (
	"fmt"

	"github.com/groveos/grove/core/pull"
	"github.com/groveos/grove/core/repo"
	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		var opts pull.LocalOptions
		var disableFsync bool
		cmd := &cobra.Command{
			Use:   "pull-local SRC_REPO [REFS...]",
			Short: "Copy data from SRC_REPO",
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx := cmd.Context()
				dst, err := openRepo(ctx)
				if err != nil {
					return err
				}
				src, err := repo.Open(ctx, args[0])
				if err != nil {
					return fmt.Errorf("opening source repo %s: %w", args[0], err)
				}
				opts.Refs = args[1:]
				_, err = pull.Local(ctx, dst, src, opts)
				return err
			},
		}
		f := cmd.Flags()
		f.StringVar(&opts.Remote, "remote", "", "add REMOTE to refspec")
		f.BoolVar(&opts.CommitMetadataOnly, "commit-metadata-only", false, "fetch only the commit metadata")
		f.BoolVar(&opts.Untrusted, "untrusted", false, "verify checksums of local sources")
		f.BoolVar(&opts.DisableVerifyBindings, "disable-verify-bindings", false, "do not verify commit bindings")
		f.IntVar(&opts.Depth, "depth", 0, "traverse DEPTH parents (-1=infinite)")
		f.BoolVar(&disableFsync, "disable-fsync", false, "do not invoke fsync() (accepted for compatibility)")
		return cmd
	})
}
