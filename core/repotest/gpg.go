package repotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NeedGPG returns the path of the gpg binary. It fails the test when gpg
// is missing and $CI is set, and skips it otherwise.
func NeedGPG(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("gpg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("gpg is required in CI: %v", err)
		}
		t.Skip("gpg not installed")
	}
	return p
}

// GPGKey is a GnuPG home directory made by the real gpg, holding one
// secret key without a passphrase: GnuPG 2.1+ layout (pubring.kbx,
// private-keys-v1.d, gpg-agent).
type GPGKey struct {
	Home        string // the --gpg-homedir
	KeyID       string // 16 hex digits
	Fingerprint string
	// PublicKeyring is a binary export of the public key (`gpg --export`),
	// what ostree's --gpg-import and keyring directories read.
	PublicKeyring string
	// Armored is the same key ASCII-armored.
	Armored string
}

// NewGPGKey generates a key for "name <email>" of the given gpg key type
// ("RSA" with 2048 bits, or "EDDSA" on ed25519). The gpg-agent it starts
// is stopped when the test ends.
func NewGPGKey(t testing.TB, name, email, keyType string) *GPGKey {
	t.Helper()
	gpg := NeedGPG(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run() })
	params := "%no-protection\nKey-Type: " + keyType + "\n"
	if keyType == "EDDSA" {
		params += "Key-Curve: ed25519\n"
	} else {
		params += "Key-Length: 2048\n"
	}
	params += "Key-Usage: sign\nName-Real: " + name + "\nName-Email: " + email + "\nExpire-Date: 0\n%commit\n"
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(gpg, append([]string{"--homedir", home, "--batch", "--no-tty"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gpg %v: %v\n%s", args, err, stderr.String())
		}
		return string(out)
	}
	run(params, "--gen-key")
	k := &GPGKey{Home: home}
	for _, line := range strings.Split(run("", "--with-colons", "--list-keys"), "\n") {
		f := strings.Split(line, ":")
		if f[0] == "fpr" && k.Fingerprint == "" {
			k.Fingerprint = f[9]
			k.KeyID = f[9][len(f[9])-16:]
		}
	}
	if k.KeyID == "" {
		t.Fatal("gpg made no key")
	}
	k.PublicKeyring = filepath.Join(dir, "pub.gpg")
	if err := os.WriteFile(k.PublicKeyring, []byte(run("", "--export", k.Fingerprint)), 0o644); err != nil {
		t.Fatal(err)
	}
	k.Armored = filepath.Join(dir, "pub.asc")
	if err := os.WriteFile(k.Armored, []byte(run("", "--armor", "--export", k.Fingerprint)), 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

// KeyringDir returns a directory holding only the binary public keyring,
// for ostree's --gpg-homedir (which reads *.gpg, not pubring.kbx).
func (k *GPGKey) KeyringDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(k.PublicKeyring)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pubring.gpg"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
