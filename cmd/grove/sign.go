package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sign"
)

func init() { register(newSignCmd) }

type signOpts struct {
	del, verify      bool
	engine, keysFile string
	keysDir          string
}

func newSignCmd() *cobra.Command {
	var o signOpts
	cmd := &cobra.Command{
		Use:   "sign [OPTION…] COMMIT KEY-ID...",
		Short: "Sign a commit",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usageError(cmd, "Need a COMMIT to sign or verify")
			}
			if !o.verify && o.keysFile == "" && len(args) < 2 {
				return usageError(cmd, "Need at least one KEY-ID to sign with")
			}
			ctx := cmd.Context()
			r, sum, err := openRepoRev(ctx, args[0])
			if err != nil {
				return err
			}
			if o.engine == "" {
				o.engine = sign.EngineEd25519
			}
			if _, err := sign.NewEngineVerifier(o.engine); err != nil {
				return err
			}
			switch {
			case o.verify:
				msg, err := verifyCommitKeys(ctx, r, sum, &o, args[1:])
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), msg)
				return nil
			case o.del:
				n, err := deleteSignapi(ctx, r, sum, o.engine, args[1:])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Signatures deleted: %d\n", n)
				return nil
			}
			var signers []sign.Signer
			for _, k := range args[1:] {
				s, err := sign.NewEngineSigner(o.engine, k)
				if err != nil {
					return err
				}
				signers = append(signers, s)
			}
			if o.keysFile != "" {
				fs, err := sign.ReadEd25519SecretKeys(o.keysFile)
				if err != nil {
					return err
				}
				for _, s := range fs {
					signers = append(signers, s)
				}
			}
			return sign.SignCommit(ctx, r, sum, signers...)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.del, "delete", "d", false, "Delete signatures having any of the KEY-IDs")
	f.BoolVar(&o.verify, "verify", false, "Verify signatures")
	f.StringVarP(&o.engine, "sign-type", "s", "", "Signature type to use (defaults to 'ed25519')")
	f.StringVar(&o.keysFile, "keys-file", "", "Read key(s) from file")
	f.StringVar(&o.keysDir, "keys-dir", "", "Redefine system-wide directories with public and revoked keys for verification")
	return cmd
}

// verifyCommitKeys follows `ostree sign --verify`: each KEY on its own
// first, then (with no KEY, or with --keys-file) the keys file or the
// system's trusted and revoked keys.
func verifyCommitKeys(ctx context.Context, r *repo.Repo, sum oid.Checksum, o *signOpts, keys []string) (string, error) {
	for _, k := range keys {
		v, err := sign.NewEngineVerifier(o.engine)
		if err != nil {
			return "", err
		}
		if v.AddKey(k) != nil {
			continue
		}
		if res, err := sign.VerifyCommit(ctx, r, sum, v); err == nil {
			return res.Message, nil
		}
	}
	if len(keys) > 0 && o.keysFile == "" {
		return "", errors.New("No valid signatures found")
	}
	v, err := sign.NewEngineVerifier(o.engine)
	if err != nil {
		return "", err
	}
	if o.keysFile != "" {
		if err := v.AddKeyFile(o.keysFile, false); err != nil {
			return "", err
		}
	} else if ev, ok := v.(*sign.Ed25519Verifier); ok {
		dirs := sign.DefaultEd25519Dirs
		if o.keysDir != "" {
			dirs = []string{o.keysDir}
		}
		if err := ev.LoadSystemKeys(dirs...); err != nil {
			return "", err
		}
	}
	res, err := sign.VerifyCommit(ctx, r, sum, v)
	if err != nil {
		return "", err
	}
	return res.Message, nil
}

// deleteSignapi removes the signatures that the public keys verify.
// (ostree 2022.7 accepts --delete but ignores it.)
func deleteSignapi(ctx context.Context, r *repo.Repo, sum oid.Checksum, engine string, keys []string) (int, error) {
	n := 0
	for _, k := range keys {
		v, err := sign.NewEngineVerifier(engine)
		if err != nil {
			return n, err
		}
		if err := v.AddKey(k); err != nil {
			return n, err
		}
		d, err := sign.DeleteSignatures(ctx, r, sum, v)
		if err != nil {
			return n, err
		}
		n += d
	}
	return n, nil
}
