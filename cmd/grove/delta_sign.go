package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/repo"
)

// Delta signing and verification engines, ed25519 and ostree's test-only
// "dummy". This is the seam for core/sign: once that package is in main,
// these adapters give way to its signers and verifiers (same shapes:
// Engine() and Sign(ctx, data)).

type deltaSigner struct {
	engine string
	key    ed25519.PrivateKey // ed25519
	dummy  string
}

func (s *deltaSigner) Engine() string { return s.engine }

func (s *deltaSigner) Sign(ctx context.Context, data []byte) ([]byte, error) {
	if s.engine == "dummy" {
		return []byte(s.dummy), nil
	}
	return ed25519.Sign(s.key, data), nil
}

func dummyEnabled() bool { return os.Getenv("OSTREE_DUMMY_SIGN_ENABLED") == "1" }

func newDeltaSigner(engine, key string) (delta.Signer, error) {
	switch engine {
	case "", "ed25519":
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(key))
		if err != nil || len(b) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("Invalid ed25519 secret key")
		}
		return &deltaSigner{engine: "ed25519", key: ed25519.PrivateKey(b)}, nil
	case "dummy":
		if !dummyEnabled() {
			return nil, errors.New("dummy signature type is only for ostree's tests (set OSTREE_DUMMY_SIGN_ENABLED=1)")
		}
		return &deltaSigner{engine: "dummy", dummy: key}, nil
	}
	return nil, fmt.Errorf("Requested signature type is not implemented")
}

// deltaKeys are the public keys a verification accepts.
type deltaKeys struct {
	engine string
	keys   [][]byte
}

func (k *deltaKeys) add(key string) error {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil
	}
	if k.engine == "dummy" {
		k.keys = append(k.keys, []byte(key))
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return fmt.Errorf("Invalid ed25519 public key %q", key)
	}
	k.keys = append(k.keys, b)
	return nil
}

func (k *deltaKeys) addFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if err := k.add(l); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// verify checks that some signature of the engine's type validates
// against some key.
func (k *deltaKeys) verify(s *delta.Signed) error {
	sigs := s.SignaturesOf(k.engine)
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no signature for 'ostree.sign.%s' in static-delta superblock", delta.ErrSignature, k.engine)
	}
	for _, sig := range sigs {
		for _, key := range k.keys {
			if k.engine == "dummy" && bytes.Equal(sig, key) {
				return nil
			}
			if k.engine == "ed25519" && len(sig) == ed25519.SignatureSize && ed25519.Verify(key, s.Superblock, sig) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: Delta signature verification failed", delta.ErrSignature)
}

func loadDeltaKeys(engine string, keys []string, keysFile, keysDir string) (*deltaKeys, error) {
	if engine == "" {
		engine = "ed25519"
	}
	if engine != "ed25519" && !(engine == "dummy" && dummyEnabled()) {
		return nil, fmt.Errorf("Signing type %s is not supported", engine)
	}
	k := &deltaKeys{engine: engine}
	for _, s := range keys {
		if err := k.add(s); err != nil {
			return nil, err
		}
	}
	if keysFile != "" {
		if err := k.addFile(keysFile); err != nil {
			return nil, err
		}
	}
	if keysDir != "" && engine == "ed25519" {
		k.addFile(filepath.Join(keysDir, "trusted.ed25519"))
		ds, _ := filepath.Glob(filepath.Join(keysDir, "trusted.ed25519.d", "*"))
		for _, d := range ds {
			k.addFile(d)
		}
	}
	return k, nil
}

// deltaVerifyPolicy is apply-offline's signature rule: with keys (on the
// command line, in a keys file or directory) or core.sign-verify-deltas
// set, the superblock must carry a valid signature; otherwise signatures
// are not checked.
func deltaVerifyPolicy(r *repo.Repo, engine string, keys []string, keysFile, keysDir string) (func(*delta.Signed) error, error) {
	required, err := r.Config().Bool("core", "sign-verify-deltas", false)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 && keysFile == "" && keysDir == "" {
		if !required {
			return nil, nil
		}
		return func(s *delta.Signed) error {
			if s == nil {
				return fmt.Errorf("%w: core.sign-verify-deltas is set and the delta is not signed", delta.ErrSignature)
			}
			return fmt.Errorf("%w: Key is mandatory to check delta signature", delta.ErrSignature)
		}, nil
	}
	k, err := loadDeltaKeys(engine, keys, keysFile, keysDir)
	if err != nil {
		return nil, err
	}
	return func(s *delta.Signed) error {
		if s == nil {
			return fmt.Errorf("%w: the delta is not signed", delta.ErrSignature)
		}
		return k.verify(s)
	}, nil
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
			r, err := openRepo(cmd.Context())
			if err != nil {
				return err
			}
			k, err := loadDeltaKeys(signType, args[1:], keysFile, keysDir)
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
			if !delta.IsSigned(raw) {
				fmt.Println("Verification fails")
				return fmt.Errorf("%w: no signatures in static-delta", delta.ErrSignature)
			}
			s, err := delta.ParseSigned(raw)
			if err != nil {
				return err
			}
			if err := k.verify(s); err != nil {
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
