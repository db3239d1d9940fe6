package sign

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/keyring"
)

// genKey makes an EdDSA key (fast) created at created (zero: now) that
// lives for life (zero: forever).
func genKey(t testing.TB, name string, created time.Time, life time.Duration) *openpgp.Entity {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, KeyLifetimeSecs: uint32(life / time.Second)}
	if !created.IsZero() {
		cfg.Time = func() time.Time { return created }
	}
	e, err := openpgp.NewEntity(name, "", strings.ToLower(name)+"@example.com", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// secretFile exports e's secret key to a file usable as a --gpg-homedir.
func secretFile(t testing.TB, e *openpgp.Entity) string {
	t.Helper()
	var buf bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&buf, nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "secret.gpg")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// publicRing is the binary public keyring of es, read back.
func publicRing(t testing.TB, es ...*openpgp.Entity) *keyring.Keyring {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range es {
		if err := e.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
	}
	k, err := keyring.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signAt makes a detached signature with e at time at.
func signAt(t testing.TB, e *openpgp.Entity, data []byte, at time.Time, life uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	cfg := &packet.Config{Time: func() time.Time { return at }, SigLifetimeSecs: life}
	if err := openpgp.DetachSign(&buf, e, bytes.NewReader(data), cfg); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func keyID(e *openpgp.Entity) string { return keyring.Fingerprint(e.PrimaryKey.Fingerprint)[24:] }

func TestGPGSignAndVerify(t *testing.T) {
	ctx := context.Background()
	alice := genKey(t, "Alice", time.Time{}, 0)
	s, err := NewGPGSigner(ctx, keyID(alice), secretFile(t, alice))
	if err != nil {
		t.Fatal(err)
	}
	if s.UsesGPG() {
		t.Fatal("an exported secret key should sign in-process")
	}
	data := []byte("the exact commit bytes")
	sig, err := s.Sign(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	v := NewGPGVerifier(publicRing(t, alice))
	res, err := v.Verify(ctx, data, [][]byte{sig})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Signatures[0]
	want := "  Signature made " + cTime(got.Created) + " using EdDSA key ID " + keyID(alice) + "\n" +
		"  Good signature from \"Alice <alice@example.com>\"\n"
	if d := got.Describe("  "); d != want {
		t.Fatalf("describe:\n%s\nwant:\n%s", d, want)
	}
	if time.Since(got.Created) > time.Minute {
		t.Fatalf("signature time %v", got.Created)
	}
	if !s.HasSigned([][]byte{sig}) {
		t.Fatal("HasSigned misses the signer's own signature")
	}

	// Altered data: BAD signature, ostree's error text.
	_, err = v.Verify(ctx, append(data, '!'), [][]byte{sig})
	if !errors.Is(err, ErrInvalidSignature) || !strings.HasSuffix(err.Error(), "BAD signature from \"Alice <alice@example.com>\"") {
		t.Fatalf("altered data: %v", err)
	}
	// Corrupted signature value (last byte of the MPI): BAD too.
	bad := append([]byte{}, sig...)
	bad[len(bad)-1] ^= 0x55
	if _, err := v.Verify(ctx, data, [][]byte{bad}); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("corrupted signature: %v", err)
	}
	// Garbage: not a signature at all.
	if _, err := v.Verify(ctx, data, [][]byte{[]byte("garbage")}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("garbage: %v", err)
	}
	// Unknown key: nothing in the keyring.
	res, err = NewGPGVerifier(keyring.New()).Verify(ctx, data, [][]byte{sig})
	if !errors.Is(err, ErrMissingKey) {
		t.Fatalf("unknown key: %v", err)
	}
	want = "Signature made " + cTime(got.Created) + " using EdDSA key ID " + keyID(alice) + "\n" +
		"Can't check signature: public key not found"
	if err.Error() != want || !res.Signatures[0].KeyMissing {
		t.Fatalf("unknown key error:\n%s\nwant:\n%s", err, want)
	}
	// The wrong key: another key trusted, Alice's missing.
	bob := genKey(t, "Bob", time.Time{}, 0)
	if _, err := NewGPGVerifier(publicRing(t, bob)).Verify(ctx, data, [][]byte{sig}); !errors.Is(err, ErrMissingKey) {
		t.Fatalf("wrong key: %v", err)
	}
	// Two signatures, one valid: accepted; error code from the last one.
	bobSig := signAt(t, bob, data, time.Now(), 0)
	if _, err := v.Verify(ctx, data, [][]byte{bobSig, sig}); err != nil {
		t.Fatalf("one of two valid: %v", err)
	}
	res, err = v.Verify(ctx, data, [][]byte{sig, bobSig})
	if err != nil || res.Valid() != 1 || !res.Signatures[1].KeyMissing {
		t.Fatalf("valid then missing: %v %+v", err, res)
	}
}

func TestGPGKeyStates(t *testing.T) {
	ctx := context.Background()
	data := []byte("summary bytes")
	now := time.Now()
	past := now.Add(-48 * time.Hour)

	// A key that expired a day ago, used while it was valid.
	old := genKey(t, "Old", past, 24*time.Hour)
	res, err := NewGPGVerifier(publicRing(t, old)).Verify(ctx, data, [][]byte{signAt(t, old, data, past.Add(time.Hour), 0)})
	if !errors.Is(err, ErrExpiredKey) {
		t.Fatalf("expired key: %v", err)
	}
	s := res.Signatures[0]
	if !s.KeyExpired || s.Valid || !strings.Contains(s.Describe(""), "Key expired "+cTime(past.Add(24*time.Hour).Truncate(time.Second))) {
		t.Fatalf("expired key: %+v\n%s", s, s.Describe(""))
	}

	// An expired signature.
	k := genKey(t, "Sig", past, 0)
	res, err = NewGPGVerifier(publicRing(t, k)).Verify(ctx, data, [][]byte{signAt(t, k, data, past.Add(time.Hour), 60)})
	if !errors.Is(err, ErrExpiredSignature) || !strings.Contains(err.Error(), "Expired signature from \"Sig <sig@example.com>\"") ||
		!strings.Contains(err.Error(), "Signature expired ") {
		t.Fatalf("expired signature: %v", err)
	}
	_ = res

	// A key revoked after it signed.
	rev := genKey(t, "Revoked", past, 0)
	sig := signAt(t, rev, data, past.Add(time.Hour), 0)
	if err := rev.RevokeKey(packet.KeyCompromised, "lost", nil); err != nil {
		t.Fatal(err)
	}
	_, err = NewGPGVerifier(publicRing(t, rev)).Verify(ctx, data, [][]byte{sig})
	if !errors.Is(err, ErrRevokedKey) || !strings.HasSuffix(err.Error(), "\nKey revoked") {
		t.Fatalf("revoked key: %v", err)
	}
}

func TestGPGSubkeySignature(t *testing.T) {
	ctx := context.Background()
	e := genKey(t, "Sub", time.Time{}, 0)
	if err := e.AddSigningSubkey(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}); err != nil {
		t.Fatal(err)
	}
	sub := e.Subkeys[len(e.Subkeys)-1].PublicKey
	s, err := NewGPGSigner(ctx, keyID(e), secretFile(t, e))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("x")
	sig, err := s.Sign(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	res, err := NewGPGVerifier(publicRing(t, e)).Verify(ctx, data, [][]byte{sig})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Signatures[0].Describe("")
	if !strings.Contains(d, "key ID "+keyring.Fingerprint(sub.Fingerprint)[24:]+"\n") || !strings.HasSuffix(d, "Primary key ID "+keyID(e)+"\n") {
		t.Fatalf("subkey signature:\n%s", d)
	}
}

func TestGPGSignerLookup(t *testing.T) {
	ctx := context.Background()
	e := genKey(t, "Alice", time.Time{}, 0)
	home := secretFile(t, e)
	for _, spec := range []string{keyID(e), "0x" + strings.ToLower(keyID(e)), keyring.Fingerprint(e.PrimaryKey.Fingerprint), keyID(e)[8:], "alice", "<alice@example.com>"} {
		if _, err := NewGPGSigner(ctx, spec, home); err != nil {
			t.Errorf("%s: %v", spec, err)
		}
	}
	_, err := NewGPGSigner(ctx, "nobody", home)
	if !errors.Is(err, ErrNoKeys) || err.Error() != "No gpg key found with ID nobody (homedir: "+home+")" {
		t.Fatalf("unknown key: %v", err)
	}
	// A directory with no secring.gpg and no gpg to ask: the same.
	t.Setenv("PATH", t.TempDir())
	if _, err := NewGPGSigner(ctx, "nobody", t.TempDir()); !errors.Is(err, ErrGPGUnavailable) {
		t.Fatalf("no gpg: %v", err)
	}
}

func TestNoSignatures(t *testing.T) {
	ctx := context.Background()
	_, err := VerifyData(ctx, NewGPGVerifier(keyring.New()), []byte("x"), nil)
	if !errors.Is(err, ErrNoSignature) || err.Error() != "GPG verification enabled, but no signatures found (use gpg-verify=false in remote config to disable)" {
		t.Fatalf("gpg: %v", err)
	}
	_, err = VerifyData(ctx, &Ed25519Verifier{}, []byte("x"), []gvariant.DictEntry{{Key: "other", Value: gvariant.NewVariant("s", "v")}})
	if !errors.Is(err, ErrNoSignature) || err.Error() != "No signatures found" {
		t.Fatalf("ed25519: %v", err)
	}
	// A key with the wrong type counts as absent.
	meta := []gvariant.DictEntry{{Key: KeyGPG, Value: gvariant.NewVariant("s", "not aay")}}
	if Signatures(meta, KeyGPG) != nil {
		t.Fatal("string value taken for signatures")
	}
}

func TestGPGSignerProtectedKeyFile(t *testing.T) {
	e := genKey(t, "Locked", time.Time{}, 0)
	if err := e.EncryptPrivateKeys([]byte("secret"), nil); err != nil {
		t.Fatal(err)
	}
	_, err := NewGPGSigner(context.Background(), keyID(e), secretFile(t, e))
	if !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), "passphrase-protected") {
		t.Fatalf("%v", err)
	}
}
