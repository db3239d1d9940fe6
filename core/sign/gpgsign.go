package sign

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/groveos/grove/core/keyring"
)

// GPGSigner makes OpenPGP detached signatures with one key, chosen by a
// gpg key specifier (key ID, fingerprint, user ID) in a GnuPG home.
//
// Secret keys go-crypto can read are used in-process: a GnuPG 1.x
// secring.gpg in the home directory, or an exported secret key when the
// "home" is a file (`gpg --export-secret-keys KEY > key.gpg`), armored or
// binary, without a passphrase. GnuPG 2.1 and later keep secret keys in
// private-keys-v1.d, readable only through gpg-agent: for those the
// signature is made by the gpg binary with that home directory (`gpg
// --detach-sign`), as ostree itself does through gpgme.
type GPGSigner struct {
	spec, home string
	public     *openpgp.Entity // the key's public part
	secret     *openpgp.Entity // nil when gpg signs
	subkey     uint64          // signing subkey named by spec, or 0
	gpg        string          // gpg binary, when it signs
}

// ErrGPGUnavailable says the key's secret lives with gpg-agent and no gpg
// binary was found to reach it.
var ErrGPGUnavailable = errors.New("sign: gpg binary not found")

// Engine is "gpg".
func (s *GPGSigner) Engine() string { return EngineGPG }

// Entity is the signing key's public part.
func (s *GPGSigner) Entity() *openpgp.Entity { return s.public }

// UsesGPG reports whether signatures are made by the gpg binary.
func (s *GPGSigner) UsesGPG() bool { return s.secret == nil }

// DefaultGPGHome is gpg's home: $GNUPGHOME, else ~/.gnupg.
func DefaultGPGHome() string {
	if h := os.Getenv("GNUPGHOME"); h != "" {
		return h
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".gnupg")
}

// NewGPGSigner finds the secret key spec names in home (a GnuPG home
// directory, or a file holding an exported secret key; "" is gpg's
// default home).
func NewGPGSigner(ctx context.Context, spec, home string) (*GPGSigner, error) {
	s := &GPGSigner{spec: spec, home: home}
	dir := home
	if dir == "" {
		dir = DefaultGPGHome()
	}
	var secrets []string
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		secrets = []string{dir}
	} else {
		secrets = []string{filepath.Join(dir, "secring.gpg")}
	}
	k := keyring.New()
	for _, p := range secrets {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		if err := k.Add(data); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	var found []*openpgp.Entity
	for _, e := range k.Lookup(spec) {
		if e.PrivateKey != nil {
			found = append(found, e)
		}
	}
	switch {
	case len(found) > 1:
		return nil, oerr(ErrBadKey, "gpg key id %s ambiguous (homedir: %s). Try the fingerprint instead", spec, homeName(home))
	case len(found) == 1 && !encrypted(found[0]):
		s.secret, s.public = found[0], found[0]
		s.subkey = subkeyNamed(found[0], spec)
		return s, nil
	}
	// The secret is elsewhere (gpg-agent) or passphrase-protected: gpg.
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if len(found) == 1 {
			return nil, oerr(ErrBadKey, "The secret key %s in %s is passphrase-protected: export it without a passphrase, or sign from a GnuPG home directory (through gpg-agent)", spec, dir)
		}
		return nil, oerr(ErrNoKeys, "No gpg key found with ID %s (homedir: %s)", spec, homeName(home))
	}
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		return nil, fmt.Errorf("%w: the secret key for %s is not in %s/secring.gpg and only gpg can reach GnuPG 2.1's private-keys-v1.d", ErrGPGUnavailable, spec, dir)
	}
	s.gpg = gpg
	if err := s.findWithGPG(ctx, dir); err != nil {
		return nil, err
	}
	return s, nil
}

func homeName(home string) string {
	if home == "" {
		return "<default>"
	}
	return home
}

func encrypted(e *openpgp.Entity) bool {
	if e.PrivateKey != nil && e.PrivateKey.Encrypted {
		return true
	}
	for _, sk := range e.Subkeys {
		if sk.PrivateKey != nil && sk.PrivateKey.Encrypted && sk.Sig != nil && sk.Sig.FlagSign {
			return true
		}
	}
	return false
}

// subkeyNamed returns the key ID of the subkey spec names exactly (a gpg
// "KEYID!" or a subkey fingerprint), or 0 to let the key choose.
func subkeyNamed(e *openpgp.Entity, spec string) uint64 {
	s := strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(spec, "0x"), "!"))
	for _, sk := range e.Subkeys {
		if isHex(s) && len(s) >= 16 && strings.HasSuffix(keyring.Fingerprint(sk.PublicKey.Fingerprint), s) {
			return sk.PublicKey.KeyId
		}
	}
	return 0
}

// findWithGPG resolves spec among gpg's secret keys and exports its public
// key.
func (s *GPGSigner) findWithGPG(ctx context.Context, dir string) error {
	out, err := s.run(ctx, dir, nil, "--with-colons", "--fixed-list-mode", "--list-secret-keys", "--", s.spec)
	if err != nil {
		// gpg exits 2 when nothing matches.
		return oerr(ErrNoKeys, "No gpg key found with ID %s (homedir: %s)", s.spec, homeName(s.home))
	}
	var fprs []string
	inSec := false
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, ":")
		switch {
		case f[0] == "sec":
			inSec = true
		case f[0] == "ssb" || f[0] == "uid":
			inSec = false
		case f[0] == "fpr" && inSec && len(f) > 9:
			fprs = append(fprs, f[9])
			inSec = false
		}
	}
	switch len(fprs) {
	case 0:
		return oerr(ErrNoKeys, "No gpg key found with ID %s (homedir: %s)", s.spec, homeName(s.home))
	case 1:
	default:
		return oerr(ErrBadKey, "gpg key id %s ambiguous (homedir: %s). Try the fingerprint instead", s.spec, homeName(s.home))
	}
	pub, err := s.run(ctx, dir, nil, "--export", "--", fprs[0])
	if err != nil {
		return err
	}
	k, err := keyring.Parse(pub)
	if err != nil || k.Len() != 1 {
		return fmt.Errorf("sign: gpg --export %s: unreadable public key: %v", fprs[0], err)
	}
	s.public = k.Entities()[0]
	return nil
}

// run runs gpg with the home directory, in batch mode.
func (s *GPGSigner) run(ctx context.Context, dir string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.gpg, append([]string{"--homedir", dir, "--batch", "--no-tty", "--quiet"}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("sign: gpg %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Sign returns one binary detached signature over data.
func (s *GPGSigner) Sign(ctx context.Context, data []byte) ([]byte, error) {
	if s.secret != nil {
		var buf bytes.Buffer
		noSalt := false // a plain signature, as gpg makes (no salt notation)
		cfg := &packet.Config{SigningKeyId: s.subkey, NonDeterministicSignaturesViaNotation: &noSalt}
		if err := openpgp.DetachSign(&buf, s.secret, bytes.NewReader(data), cfg); err != nil {
			return nil, fmt.Errorf("sign: Failure signing with GPG key %s: %w", s.spec, err)
		}
		return buf.Bytes(), nil
	}
	dir := s.home
	if dir == "" {
		dir = DefaultGPGHome()
	}
	user := keyring.Fingerprint(s.public.PrimaryKey.Fingerprint)
	if strings.HasSuffix(s.spec, "!") {
		user = s.spec
	}
	sig, err := s.run(ctx, dir, data, "--detach-sign", "--local-user", user, "--output", "-", "-")
	if err != nil {
		return nil, fmt.Errorf("Failure signing commit file: %w", err)
	}
	if _, err := ParseGPGSignatures([][]byte{sig}); err != nil {
		return nil, fmt.Errorf("sign: gpg made an unreadable signature: %w", err)
	}
	return sig, nil
}

// keyIDs are the key IDs of the signer's primary key and subkeys.
func (s *GPGSigner) keyIDs() map[uint64]bool {
	ids := map[uint64]bool{s.public.PrimaryKey.KeyId: true}
	for _, sk := range s.public.Subkeys {
		ids[sk.PublicKey.KeyId] = true
	}
	return ids
}

// HasSigned reports whether one of the signatures (binary OpenPGP, as
// stored under ostree.gpgsigs) was issued by the signer's key. Unreadable
// signatures are ignored here; verification reports them.
func (s *GPGSigner) HasSigned(blobs [][]byte) bool {
	ids := s.keyIDs()
	for _, b := range blobs {
		sigs, err := ParseGPGSignatures([][]byte{b})
		if err != nil {
			continue
		}
		for _, sig := range sigs {
			if id, _, ok := issuerID(sig); ok && ids[id] {
				return true
			}
		}
	}
	return false
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && s != ""
}
