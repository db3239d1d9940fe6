package sign

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RFC 8032 section 7.1 test vectors (TEST 1, 2, 3 and SHA(abc)).
var rfc8032 = []struct{ seed, pub, msg, sig string }{
	{
		"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		"",
		"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
	},
	{
		"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
		"72",
		"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
	},
	{
		"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
		"af82",
		"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
	},
	{
		"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
		"ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		"dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
	},
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEd25519KnownAnswers signs and verifies RFC 8032's vectors through
// ostree's base64 key forms (secret = seed ‖ public).
func TestEd25519KnownAnswers(t *testing.T) {
	ctx := context.Background()
	for i, v := range rfc8032 {
		secret := base64.StdEncoding.EncodeToString(append(unhex(t, v.seed), unhex(t, v.pub)...))
		s, err := NewEd25519Signer(secret)
		if err != nil {
			t.Fatalf("vector %d: %v", i, err)
		}
		if got := hex.EncodeToString(s.Public()); got != v.pub {
			t.Fatalf("vector %d: public %s, want %s", i, got, v.pub)
		}
		sig, err := s.Sign(ctx, unhex(t, v.msg))
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(sig); got != v.sig {
			t.Fatalf("vector %d: signature %s, want %s", i, got, v.sig)
		}
		ver := &Ed25519Verifier{}
		if err := ver.AddKey(base64.StdEncoding.EncodeToString(unhex(t, v.pub))); err != nil {
			t.Fatal(err)
		}
		res, err := ver.Verify(ctx, unhex(t, v.msg), [][]byte{unhex(t, v.sig)})
		if err != nil {
			t.Fatalf("vector %d: %v", i, err)
		}
		want := "ed25519: Signature verified successfully with key '" + v.pub + "'"
		if res.Message != want {
			t.Fatalf("vector %d: message %q, want %q", i, res.Message, want)
		}
		// One flipped bit in the message fails.
		msg := append(unhex(t, v.msg), 0)
		if _, err := ver.Verify(ctx, msg, [][]byte{unhex(t, v.sig)}); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("vector %d: altered message: %v", i, err)
		}
	}
}

func newEd25519(t testing.TB) (secret, public string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(priv), base64.StdEncoding.EncodeToString(pub)
}

func TestEd25519Keys(t *testing.T) {
	for _, bad := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(make([]byte, 31))} {
		if _, err := ParseEd25519Public(bad); !errors.Is(err, ErrBadKey) || err.Error() != "Incorrect ed25519 public key" {
			t.Errorf("public %q: %v", bad, err)
		}
		if _, err := ParseEd25519Secret(bad); !errors.Is(err, ErrBadKey) || err.Error() != "Incorrect ed25519 secret key" {
			t.Errorf("secret %q: %v", bad, err)
		}
	}
	// A secret whose public half is not the seed's.
	sec, _ := newEd25519(t)
	_, other := newEd25519(t)
	b, _ := base64.StdEncoding.DecodeString(sec)
	o, _ := base64.StdEncoding.DecodeString(other)
	if _, err := ParseEd25519Secret(base64.StdEncoding.EncodeToString(append(b[:32], o...))); !errors.Is(err, ErrBadKey) {
		t.Errorf("mismatched secret: %v", err)
	}
	if _, err := NewEngineSigner("spki", sec); !errors.Is(err, ErrUnknownEngine) || err.Error() != "Requested signature type is not implemented" {
		t.Errorf("unknown engine: %v", err)
	}
}

func TestEd25519VerifyFailures(t *testing.T) {
	ctx := context.Background()
	sec, pub := newEd25519(t)
	s, _ := NewEd25519Signer(sec)
	data := []byte("commit bytes")
	sig, _ := s.Sign(ctx, data)

	_, wrong := newEd25519(t)
	v := &Ed25519Verifier{}
	v.AddKey(wrong)
	_, err := v.Verify(ctx, data, [][]byte{sig})
	wb, _ := base64.StdEncoding.DecodeString(wrong)
	if want := "ed25519: Signature couldn't be verified with: key '" + hex.EncodeToString(wb) + "'"; err == nil || err.Error() != want {
		t.Fatalf("wrong key: %v, want %q", err, want)
	}

	// More than three tried keys are counted, not listed.
	for i := 0; i < 4; i++ {
		_, k := newEd25519(t)
		v.AddKey(k)
	}
	if _, err := v.Verify(ctx, data, [][]byte{sig}); err == nil || err.Error() != "ed25519: Signature couldn't be verified; tried 5 keys" {
		t.Fatalf("many keys: %v", err)
	}

	// The right key, but revoked: nothing left to try.
	v = &Ed25519Verifier{}
	v.AddKey(pub)
	pk, _ := ParseEd25519Public(pub)
	v.Revoked = append(v.Revoked, pk)
	if _, err := v.Verify(ctx, data, [][]byte{sig}); !errors.Is(err, ErrNoSignature) || err.Error() != "ed25519: no signatures found" {
		t.Fatalf("revoked: %v", err)
	}

	v = &Ed25519Verifier{}
	v.AddKey(pub)
	if _, err := v.Verify(ctx, data, [][]byte{sig[:63]}); !errors.Is(err, ErrMalformed) || err.Error() != "Invalid signature length of 63 bytes, expected 64" {
		t.Fatalf("short: %v", err)
	}
	// A second, valid signature after an invalid one is enough.
	bad := append([]byte{}, sig...)
	bad[0] ^= 1
	if _, err := v.Verify(ctx, data, [][]byte{bad, sig}); err != nil {
		t.Fatalf("bad then good: %v", err)
	}
}

// TestEd25519SystemKeys loads trusted and revoked keys from a directory
// laid out as /etc/ostree is.
func TestEd25519SystemKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sec1, pub1 := newEd25519(t)
	sec2, pub2 := newEd25519(t)
	sec3, _ := newEd25519(t)
	os.MkdirAll(filepath.Join(dir, "trusted.ed25519.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "trusted.ed25519"), []byte(pub1+"\n\ngarbage\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "trusted.ed25519.d", "more"), []byte(pub2+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "revoked.ed25519"), []byte(pub2+"\n"), 0o644)
	data := []byte("summary")
	sign := func(sec string) []byte {
		s, _ := NewEd25519Signer(sec)
		b, _ := s.Sign(ctx, data)
		return b
	}
	v := &Ed25519Verifier{SystemDirs: []string{dir}}
	if _, err := v.Verify(ctx, data, [][]byte{sign(sec1)}); err != nil {
		t.Fatalf("trusted key: %v", err)
	}
	if _, err := v.Verify(ctx, data, [][]byte{sign(sec2)}); err == nil {
		t.Fatal("revoked key verified")
	}
	if _, err := v.Verify(ctx, data, [][]byte{sign(sec3)}); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("unknown key: %v", err)
	}
	empty := &Ed25519Verifier{SystemDirs: []string{t.TempDir()}}
	if _, err := empty.Verify(ctx, data, [][]byte{sign(sec1)}); !errors.Is(err, ErrNoKeys) || err.Error() != "signature: ed25519: no keys loaded" {
		t.Fatalf("no keys: %v", err)
	}
	// Secret key files, one per line.
	kf := filepath.Join(dir, "secrets")
	os.WriteFile(kf, []byte(sec1+"\n"+sec3+"\n"), 0o600)
	signers, err := ReadEd25519SecretKeys(kf)
	if err != nil || len(signers) != 2 {
		t.Fatalf("keys file: %d, %v", len(signers), err)
	}
	if _, err := ReadEd25519SecretKeys(dir); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Fatalf("keys file is a dir: %v", err)
	}
}
