package keyring

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/groveos/grove/core/repotest"
)

func newEntity(t testing.TB, name string) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", strings.ToLower(name)+"@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func serialized(t testing.TB, es ...*openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range es {
		if err := e.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// blob builds one keybox blob: type, flags, and (for OpenPGP) a keyblock
// placed after a key table, followed by a 20-byte checksum area.
func blob(typ byte, flags uint16, keyblock []byte) []byte {
	b := make([]byte, 20) // fixed part + one u16 key count + u16 info size
	b[4], b[5] = typ, 1
	binary.BigEndian.PutUint16(b[6:], flags)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)))
	binary.BigEndian.PutUint32(b[12:], uint32(len(keyblock)))
	b = append(b, keyblock...)
	b = append(b, make([]byte, 20)...)
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

func header() []byte {
	h := make([]byte, 32)
	binary.BigEndian.PutUint32(h, 32)
	h[4], h[5] = 1, 1
	copy(h[8:], "KBXf")
	return h
}

// keybox builds a keybox holding keyblocks in OpenPGP blobs, plus an
// ephemeral blob, an X.509 blob and a deleted one that must be skipped.
func keybox(t testing.TB, keyblocks ...[]byte) []byte {
	kb := header()
	for _, k := range keyblocks {
		kb = append(kb, blob(2, 0, k)...)
	}
	kb = append(kb, blob(2, 2, []byte("ephemeral: not a key"))...)
	kb = append(kb, blob(3, 0, []byte("x509 certificate"))...)
	kb = append(kb, blob(0, 0, nil)...)
	return kb
}

func TestKeyboxSynthetic(t *testing.T) {
	a, b := newEntity(t, "Alice"), newEntity(t, "Bob")
	k, err := Parse(keybox(t, serialized(t, a), serialized(t, b)))
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() != 2 || len(k.Lookup("alice")) != 1 || len(k.Lookup("<bob@example.com>")) != 1 {
		t.Fatalf("keys: %d", k.Len())
	}
	for name, data := range map[string][]byte{
		"truncated":  keybox(t, serialized(t, a))[:40],
		"bad length": append(header(), 0, 0, 0, 2, 2, 1),
		"outside": func() []byte {
			b := blob(2, 0, []byte("k"))
			binary.BigEndian.PutUint32(b[12:], 1000)
			return append(header(), b...)
		}(),
		"blob version":  func() []byte { b := blob(2, 0, serialized(t, a)); b[5] = 9; return append(header(), b...) }(),
		"short openpgp": append(header(), 0, 0, 0, 8, 2, 1, 0, 0),
	} {
		if _, err := Parse(data); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestKeyboxFromGPG reads the pubring.kbx GnuPG 2.2 writes, and the same
// key exported binary and armored: one key, merged.
func TestKeyboxFromGPG(t *testing.T) {
	t.Parallel()
	key := repotest.NewGPGKey(t, "Kbx Reader", "kbx@example.com", "EDDSA")
	k := New()
	if err := k.AddDir(key.Home); err != nil {
		t.Fatal(err)
	}
	if k.Len() != 1 || Fingerprint(k.Entities()[0].PrimaryKey.Fingerprint) != key.Fingerprint {
		t.Fatalf("pubring.kbx: %d keys", k.Len())
	}
	for _, f := range []string{key.PublicKeyring, key.Armored} {
		if err := k.AddFile(f); err != nil {
			t.Fatal(err)
		}
	}
	if k.Len() != 1 {
		t.Fatalf("the same key three times: %d keys", k.Len())
	}
	if got := k.Lookup(key.KeyID); len(got) != 1 {
		t.Fatalf("lookup by key ID: %d", len(got))
	}
	// What Serialize writes gpg reads back as the same key.
	var buf bytes.Buffer
	if err := k.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	ring := filepath.Join(t.TempDir(), "ring.gpg")
	os.WriteFile(ring, buf.Bytes(), 0o644)
	out, err := exec.Command("gpg", "--homedir", t.TempDir(), "--batch", "--with-colons", "--show-keys", ring).Output()
	if err != nil || !strings.Contains(string(out), "fpr:::::::::"+key.Fingerprint+":") || !strings.Contains(string(out), "Kbx Reader <kbx@example.com>") {
		t.Fatalf("gpg --show-keys on grove's keyring: %v\n%s", err, out)
	}
}

func TestMergeAndSerialize(t *testing.T) {
	a := newEntity(t, "Alice")
	plain := serialized(t, a)
	if err := a.RevokeKey(packet.KeyRetired, "old", nil); err != nil {
		t.Fatal(err)
	}
	revoked := serialized(t, a)
	k, err := Parse(plain)
	if err != nil {
		t.Fatal(err)
	}
	if k.Entities()[0].Revoked(time.Now()) {
		t.Fatal("revoked too early")
	}
	// Armored, concatenated with trailing text.
	var arm bytes.Buffer
	w, _ := armor.Encode(&arm, openpgp.PublicKeyType, nil)
	w.Write(revoked)
	w.Close()
	if err := k.Add(append(arm.Bytes(), "\ntrailing words\n"...)); err != nil {
		t.Fatal(err)
	}
	if k.Len() != 1 || !k.Entities()[0].Revoked(time.Now()) {
		t.Fatalf("revocation not merged: %d keys", k.Len())
	}
	var buf bytes.Buffer
	k.Serialize(&buf)
	k2, err := Parse(buf.Bytes())
	if err != nil || k2.Len() != 1 || !k2.Entities()[0].Revoked(time.Now()) {
		t.Fatalf("round trip: %v", err)
	}
	info := k2.Keys(time.Now())
	if len(info) != 1 || !info[0].Subkeys[0].Revoked || info[0].UIDs[0].UID != "Alice <alice@example.com>" {
		t.Fatalf("keys: %+v", info)
	}
	if err := New().Add([]byte("-----BEGIN PGP MESSAGE-----\nnope\n")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad armor: %v", err)
	}
	if err := New().Add([]byte("\x99garbage")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("garbage: %v", err)
	}
	if err := New().Add(nil); err != nil {
		t.Fatalf("empty keyring: %v", err)
	}
}

// TestWKDURLs checks against the example of the WKD draft (joe.doe).
func TestWKDURLs(t *testing.T) {
	adv, direct := WKDURLs("Joe.Doe@Example.ORG")
	if adv != "https://openpgpkey.Example.ORG/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe" ||
		direct != "https://Example.ORG/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe" {
		t.Fatalf("%s\n%s", adv, direct)
	}
	if a, d := WKDURLs("no-address"); a != "" || d != "" {
		t.Fatal("URLs for a non-address")
	}
}

func TestCTime(t *testing.T) {
	t.Setenv("TZ", "UTC")
	loc := time.Local
	time.Local = time.UTC
	defer func() { time.Local = loc }()
	if got := CTime(time.Date(2026, 12, 4, 16, 16, 14, 0, time.UTC)); got != "Fri Dec \u20074 16:16:14 2026" {
		t.Fatalf("%q", got)
	}
	if got := CTime(time.Date(2020, 1, 14, 1, 2, 3, 0, time.UTC)); got != "Tue Jan 14 01:02:03 2020" {
		t.Fatalf("%q", got)
	}
}
