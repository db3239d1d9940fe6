package main

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sign"
)

// showSignatures prints a commit's GPG signatures after `show`'s dump, as
// ostree does: nothing for an unsigned commit, else "Found N
// signature(s):" and each described. With --gpg-verify (a grove
// extension) a commit without a valid signature is an error.
func showSignatures(cmd *cobra.Command, w *bufio.Writer, r *repo.Repo, sum oid.Checksum, o *showOpts) error {
	ctx := cmd.Context()
	if !o.gpgVerify {
		// Keyrings are read only for a commit that has GPG signatures.
		_, meta, err := sign.CommitData(ctx, r, sum)
		if err != nil {
			return err
		}
		if sign.Signatures(meta, sign.KeyGPG) == nil {
			return nil
		}
	}
	opts := sign.GPGKeyringOptions{Repo: r.Path(), AllRemotes: true, HomeDir: o.gpgHome}
	if o.gpgRemote != "" {
		rem, err := remote.Get(r, remote.Where{}, o.gpgRemote)
		if err != nil {
			return err
		}
		paths, _ := rem.Option("gpgkeypath")
		opts = sign.GPGKeyringOptions{Repo: r.Path(), Remote: o.gpgRemote, KeyPaths: sign.ParseKeyPaths(paths)}
	}
	k, err := sign.LoadGPGKeyring(opts)
	if err != nil {
		return err
	}
	res, verr := sign.VerifyCommit(ctx, r, sum, sign.NewGPGVerifier(k))
	if res == nil {
		if errors.Is(verr, sign.ErrNoSignature) && !o.gpgVerify {
			return nil
		}
		return verr
	}
	w.WriteString(res.ShowReport())
	if verr != nil && o.gpgVerify {
		w.Flush()
		return fmt.Errorf("Commit %s: %w", sum, verr)
	}
	return nil
}
