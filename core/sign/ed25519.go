package sign

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// DefaultEd25519Dirs are the directories ostree searches for
// trusted.ed25519(.d) and revoked.ed25519(.d) when no key is given:
// /etc/ostree, then $datadir/ostree (Debian's datadir is /usr/share).
var DefaultEd25519Dirs = []string{"/etc/ostree", "/usr/share/ostree"}

// ParseEd25519Public decodes a base64 public key (32 bytes).
func ParseEd25519Public(b64 string) (ed25519.PublicKey, error) {
	b, err := decodeB64(b64)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, oerr(ErrBadKey, "Incorrect ed25519 public key")
	}
	return ed25519.PublicKey(b), nil
}

// ParseEd25519Secret decodes a base64 secret key: 64 bytes, the 32-byte
// seed followed by the public key (libsodium's and Go's layout).
func ParseEd25519Secret(b64 string) (ed25519.PrivateKey, error) {
	b, err := decodeB64(b64)
	if err != nil || len(b) != ed25519.PrivateKeySize {
		return nil, oerr(ErrBadKey, "Incorrect ed25519 secret key")
	}
	k := ed25519.PrivateKey(b)
	if !bytes.Equal(ed25519.NewKeyFromSeed(k.Seed()).Public().(ed25519.PublicKey), k[32:]) {
		return nil, oerr(ErrBadKey, "Incorrect ed25519 secret key (public half does not match the seed)")
	}
	return k, nil
}

func decodeB64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// Ed25519Signer signs with one secret key.
type Ed25519Signer struct{ key ed25519.PrivateKey }

// NewEd25519Signer returns a signer for a base64 secret key.
func NewEd25519Signer(secretB64 string) (*Ed25519Signer, error) {
	k, err := ParseEd25519Secret(secretB64)
	if err != nil {
		return nil, err
	}
	return &Ed25519Signer{key: k}, nil
}

// Engine is "ed25519".
func (s *Ed25519Signer) Engine() string { return EngineEd25519 }

// Public is the signer's public key.
func (s *Ed25519Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign returns a raw 64-byte Ed25519 signature (not prehashed).
func (s *Ed25519Signer) Sign(ctx context.Context, data []byte) ([]byte, error) {
	return ed25519.Sign(s.key, data), nil
}

// Ed25519Verifier holds trusted and revoked public keys. When it has no
// trusted key at its first Verify it loads the system's
// (LoadSystemKeys(SystemDirs...)), as ostree does.
type Ed25519Verifier struct {
	Trusted    []ed25519.PublicKey
	Revoked    []ed25519.PublicKey
	SystemDirs []string

	once    sync.Once
	loadErr error
}

// Engine is "ed25519".
func (v *Ed25519Verifier) Engine() string { return EngineEd25519 }

// AddKey adds a base64 public key to the trusted set (once).
func (v *Ed25519Verifier) AddKey(b64 string) error {
	k, err := ParseEd25519Public(b64)
	if err != nil {
		return err
	}
	v.Trusted = addKey(v.Trusted, k)
	return nil
}

func addKey(list []ed25519.PublicKey, k ed25519.PublicKey) []ed25519.PublicKey {
	for _, o := range list {
		if bytes.Equal(o, k) {
			return list
		}
	}
	return append(list, k)
}

// AddKeyFile adds every key in a file of base64 keys, one per line, to
// the trusted (or revoked) set. Like ostree it fails only when the file
// cannot be read or holds no valid key.
func (v *Ed25519Verifier) AddKeyFile(path string, revoked bool) error {
	keys, err := readKeyFile(path)
	if err != nil {
		return err
	}
	n := 0
	for _, line := range keys {
		k, err := ParseEd25519Public(line)
		if err != nil {
			continue
		}
		n++
		if revoked {
			v.Revoked = addKey(v.Revoked, k)
		} else {
			v.Trusted = addKey(v.Trusted, k)
		}
	}
	if n == 0 {
		return oerr(ErrNoKeys, "signature: ed25519: no valid keys in file '%s'", path)
	}
	return nil
}

// readKeyFile returns the non-blank lines of a key file.
func readKeyFile(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil, oerr(ErrNoKeys, "File object '%s' is not a regular file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// ReadEd25519SecretKeys reads a --keys-file of base64 secret keys.
func ReadEd25519SecretKeys(path string) ([]*Ed25519Signer, error) {
	lines, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	var out []*Ed25519Signer
	for _, l := range lines {
		s, err := NewEd25519Signer(l)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// LoadSystemKeys adds the keys ostree finds without configuration: for
// each dir (DefaultEd25519Dirs when none), trusted.ed25519 and every file
// in trusted.ed25519.d as trusted keys, revoked.ed25519(.d) as revoked.
// It fails with "signature: ed25519: no keys loaded" when no trusted key
// file yielded a key.
func (v *Ed25519Verifier) LoadSystemKeys(dirs ...string) error {
	if len(dirs) == 0 {
		dirs = DefaultEd25519Dirs
	}
	load := func(name string, revoked bool) bool {
		ok := false
		for _, d := range dirs {
			base := filepath.Join(d, name)
			files := []string{base}
			if ents, err := os.ReadDir(base + ".d"); err == nil {
				names := make([]string, 0, len(ents))
				for _, e := range ents {
					names = append(names, e.Name())
				}
				sort.Strings(names)
				for _, n := range names {
					files = append(files, filepath.Join(base+".d", n))
				}
			}
			for _, f := range files {
				if v.AddKeyFile(f, revoked) == nil {
					ok = true
				}
			}
		}
		return ok
	}
	if !load("trusted.ed25519", false) {
		return oerr(ErrNoKeys, "signature: ed25519: no keys loaded")
	}
	load("revoked.ed25519", true)
	return nil
}

// Verify accepts the data if any signature validates against any trusted
// key that is not revoked. A signature that is not 64 bytes long is an
// error at once, as in ostree. Signatures lists the verified key (as its
// hex fingerprint) on success.
func (v *Ed25519Verifier) Verify(ctx context.Context, data []byte, sigs [][]byte) (*Result, error) {
	v.once.Do(func() {
		if len(v.Trusted) == 0 {
			v.loadErr = v.LoadSystemKeys(v.SystemDirs...)
		}
	})
	if v.loadErr != nil {
		return nil, v.loadErr
	}
	var invalid []string
	for _, sig := range sigs {
		if len(sig) != ed25519.SignatureSize {
			return nil, oerr(ErrMalformed, "Invalid signature length of %d bytes, expected %d", len(sig), ed25519.SignatureSize)
		}
		for _, k := range v.Trusted {
			if v.revoked(k) {
				continue
			}
			h := hex.EncodeToString(k)
			if ed25519.Verify(k, data, sig) {
				return &Result{
					Engine:     EngineEd25519,
					Signatures: []Signature{{Valid: true, Fingerprint: h, PrimaryFingerprint: h, Algorithm: "ed25519"}},
					Message:    fmt.Sprintf("ed25519: Signature verified successfully with key '%s'", h),
				}, nil
			}
			invalid = append(invalid, fmt.Sprintf("key '%s'", h))
		}
	}
	switch {
	case len(invalid) > 3:
		return nil, oerr(ErrInvalidSignature, "ed25519: Signature couldn't be verified; tried %d keys", len(invalid))
	case len(invalid) > 0:
		return nil, oerr(ErrInvalidSignature, "ed25519: Signature couldn't be verified with: %s", strings.Join(invalid, "; "))
	case len(v.Trusted) == 0:
		return nil, oerr(ErrNoKeys, "signature: ed25519: no keys loaded")
	}
	return nil, oerr(ErrNoSignature, "ed25519: no signatures found")
}

func (v *Ed25519Verifier) revoked(k ed25519.PublicKey) bool {
	for _, r := range v.Revoked {
		if bytes.Equal(r, k) {
			return true
		}
	}
	return false
}

// NewEngineSigner returns the signer for a `--sign-type` and a `--sign`
// key: ed25519, or ostree's test engine "dummy" (GPG signing goes through
// NewGPGSigner).
func NewEngineSigner(engine, key string) (Signer, error) {
	switch engine {
	case "", EngineEd25519:
		return NewEd25519Signer(key)
	case EngineDummy:
		if err := dummyEnabled(); err != nil {
			return nil, err
		}
		return &DummySigner{key: key}, nil
	}
	return nil, oerr(ErrUnknownEngine, "Requested signature type is not implemented")
}
