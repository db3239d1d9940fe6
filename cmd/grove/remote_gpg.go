package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/keyring"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sign"
)

func newRemoteGPGImportCmd() *cobra.Command {
	var files []string
	var stdin bool
	cmd := &cobra.Command{
		Use:   "gpg-import [OPTION…] NAME [KEY-ID…]",
		Short: "Import GPG keys",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("NAME must be specified")
			}
			if stdin && len(files) > 0 {
				return errors.New("--keyring and --stdin are mutually exclusive")
			}
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			return remoteGPGImport(ctx, r, args[0], files, stdin, args[1:])
		},
	}
	cmd.Flags().StringArrayVarP(&files, "keyring", "k", nil, "Import keys from a keyring file (repeatable)")
	cmd.Flags().BoolVar(&stdin, "stdin", false, "Import keys from standard input")
	return cmd
}

// remoteGPGImport imports keys (all, or those ids name) from the keyring
// files, or standard input, into <repo>/<remote>.trustedkeys.gpg, as
// `ostree remote gpg-import` does, and says how many were new.
func remoteGPGImport(ctx context.Context, r *repo.Repo, name string, files []string, stdin bool, ids []string) error {
	if _, err := remote.Get(r, remote.Where{}, name); err != nil {
		return fmt.Errorf("GPG: %w", err)
	}
	src := keyring.New()
	var data [][]byte
	if stdin {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		data = append(data, b)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		data = append(data, b)
	}
	for _, b := range data {
		if err := src.Add(b); err != nil {
			return fmt.Errorf("GPG: Unable to import keys: %w", err)
		}
	}
	n, err := sign.ImportKeys(r.Path(), name, src, ids)
	if err != nil {
		return err
	}
	plural := "s"
	if n == 1 {
		plural = ""
	}
	fmt.Printf("Imported %d GPG key%s to remote \"%s\"\n", n, plural, name)
	return nil
}

func newRemoteListGPGKeysCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "gpg-list-keys [NAME]",
		Aliases: []string{"list-gpg-keys"},
		Short:   "Show remote GPG keys",
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openRepo(cmd.Context())
			if err != nil {
				return err
			}
			var rem *remote.Remote
			if len(args) > 0 {
				if rem, err = remote.Get(r, remote.Where{}, args[0]); err != nil {
					return err
				}
			}
			k, err := remote.Keys(r, rem, remote.Where{})
			if err != nil {
				return err
			}
			fmt.Print(keyring.DescribeKeys(k.Keys(time.Now())))
			return nil
		},
	}
}
