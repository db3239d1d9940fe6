package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sign"
)

// Delta signing goes through core/sign (ed25519). ostree's test-only
// "dummy" engine (the signature is the key string; enabled by
// OSTREE_DUMMY_SIGN_ENABLED=1, the only engine ostree 2022.7 in Debian
// can sign deltas with) is kept here, for interoperability tests.

func dummyEnabled() bool { return os.Getenv("OSTREE_DUMMY_SIGN_ENABLED") == "1" }

type dummySigner string

func (d dummySigner) Engine() string { return "dummy" }
func (d dummySigner) Sign(context.Context, []byte) ([]byte, error) {
	return []byte(d), nil
}

type dummyVerifier struct{ keys []string }

func (d *dummyVerifier) Engine() string { return "dummy" }
func (d *dummyVerifier) Verify(_ context.Context, _ []byte, sigs [][]byte) (*sign.Result, error) {
	for _, s := range sigs {
		for _, k := range d.keys {
			if bytes.Equal(s, []byte(k)) {
				return &sign.Result{Engine: "dummy", Message: "dummy: Signature verified"}, nil
			}
		}
	}
	return nil, errors.New("dummy: incorrect signature")
}

func newDeltaSigner(engine, key string) (delta.Signer, error) {
	if engine == "dummy" && dummyEnabled() {
		return dummySigner(key), nil
	}
	return sign.NewEngineSigner(engine, key)
}

// newDeltaVerifier loads the keys of a verification: command-line keys,
// a keys file, a keys directory (else the system's, for ed25519).
func newDeltaVerifier(engine string, keys []string, keysFile, keysDir string) (sign.Verifier, error) {
	if engine == "dummy" && dummyEnabled() {
		v := &dummyVerifier{keys: keys}
		if keysFile != "" {
			b, err := os.ReadFile(keysFile)
			if err != nil {
				return nil, err
			}
			v.keys = append(v.keys, strings.Fields(string(b))...)
		}
		return v, nil
	}
	if engine != "" && engine != sign.EngineEd25519 {
		return nil, fmt.Errorf("Signing type %s is not supported", engine)
	}
	v := &sign.Ed25519Verifier{}
	for _, k := range keys {
		if err := v.AddKey(k); err != nil {
			return nil, err
		}
	}
	if keysFile != "" {
		if err := v.AddKeyFile(keysFile, false); err != nil {
			return nil, err
		}
	}
	if keysDir != "" {
		v.SystemDirs = []string{keysDir}
	}
	return v, nil
}

// verifySigned checks a signed superblock with v.
func verifySigned(ctx context.Context, v sign.Verifier, s *delta.Signed) error {
	if s == nil {
		return fmt.Errorf("%w: the delta is not signed", delta.ErrSignature)
	}
	if len(s.SignaturesOf(v.Engine())) == 0 {
		return fmt.Errorf("%w: no signature for 'ostree.sign.%s' in static-delta superblock", delta.ErrSignature, v.Engine())
	}
	if _, err := sign.VerifyData(ctx, v, s.Superblock, s.Signatures); err != nil {
		return fmt.Errorf("%w: Delta signature verification failed: %w", delta.ErrSignature, err)
	}
	return nil
}

// deltaVerifyPolicy is apply-offline's signature rule: with keys (on the
// command line, in a keys file or directory) or core.sign-verify-deltas
// set, the superblock must carry a valid signature; otherwise signatures
// are not checked.
func deltaVerifyPolicy(ctx context.Context, r *repo.Repo, engine string, keys []string, keysFile, keysDir string) (func(*delta.Signed) error, error) {
	required, err := r.Config().Bool("core", "sign-verify-deltas", false)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 && keysFile == "" && keysDir == "" && !required {
		return nil, nil
	}
	v, err := newDeltaVerifier(engine, keys, keysFile, keysDir)
	if err != nil {
		return nil, err
	}
	return func(s *delta.Signed) error { return verifySigned(ctx, v, s) }, nil
}

func newDeltaVerifyCmd() *cobra.Command {
	var signType, keysFile, keysDir string
	cmd := &cobra.Command{
		Use:   "verify STATIC-DELTA-FILE [KEY-ID…]",
		Short: "Verify static delta signatures",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("DELTA must be specified")
			}
			ctx := cmd.Context()
			r, err := openRepo(ctx)
			if err != nil {
				return err
			}
			v, err := newDeltaVerifier(signType, args[1:], keysFile, keysDir)
			if err != nil {
				return err
			}
			path, _, err := resolveDelta(cmd, r, args[0])
			if err != nil {
				return err
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var s *delta.Signed
			if delta.IsSigned(raw) {
				if s, err = delta.ParseSigned(raw); err != nil {
					return err
				}
			}
			if err := verifySigned(ctx, v, s); err != nil {
				fmt.Println("Verification fails")
				return err
			}
			fmt.Println("Verification OK")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&signType, "sign-type", "", "Signature type to use (defaults to 'ed25519')")
	f.StringVar(&keysFile, "keys-file", "", "Read key(s) from file")
	f.StringVar(&keysDir, "keys-dir", "", "Redefine system-wide directories with public and revoked keys for verification")
	return cmd
}
