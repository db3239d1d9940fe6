package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/sign"
)

func init() { register(newGPGSignCmd) }

func newGPGSignCmd() *cobra.Command {
	var del bool
	var home string
	cmd := &cobra.Command{
		Use:   "gpg-sign [OPTION…] COMMIT KEY-ID...",
		Short: "Sign a commit",
		RunE: func(cmd *cobra.Command, args []string) error {
			switch len(args) {
			case 0:
				return usageError(cmd, "Need a COMMIT to sign")
			case 1:
				return usageError(cmd, "Need at least one GPG KEY-ID to sign with")
			}
			ctx := cmd.Context()
			r, sum, err := openRepoRev(ctx, args[0])
			if err != nil {
				return err
			}
			keys := args[1:]
			if del {
				// ostree matches signatures against the repository's remote
				// keyrings and the global ones; a --gpg-homedir adds its keys.
				k, err := sign.LoadGPGKeyring(sign.GPGKeyringOptions{Repo: r.Path(), AllRemotes: true, HomeDir: home})
				if err != nil {
					return err
				}
				n, err := sign.DeleteGPGSignatures(ctx, r, sum, k, keys)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Signatures deleted: %d\n", n)
				return nil
			}
			for _, key := range keys {
				s, err := sign.NewGPGSigner(ctx, key, home)
				if err != nil {
					return err
				}
				if err := sign.SignCommit(ctx, r, sum, s); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&del, "delete", "d", false, "Delete signatures having any of the GPG KEY-IDs")
	f.StringVar(&home, "gpg-homedir", "", "GPG Homedir to use when looking for keyrings")
	return cmd
}

// usageError prints the verb's usage to stderr, as ostree does before a
// usage error, and returns the message as the error.
func usageError(cmd *cobra.Command, msg string) error {
	cmd.PrintErrln(cmd.UsageString())
	return errors.New(msg)
}
