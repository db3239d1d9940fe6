package sign

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
)

func options(m map[string]string) RemoteOption {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestPolicyForRemote(t *testing.T) {
	ctx := context.Background()
	repoDir := t.TempDir()
	global := t.TempDir()
	o := PolicyOptions{Repo: repoDir, GlobalDir: global, Ed25519Dirs: []string{t.TempDir()}}
	sec, pub := newEd25519(t)
	_, other := newEd25519(t)
	ed, _ := NewEd25519Signer(sec)
	alice := genKey(t, "Alice", time.Time{}, 0)
	ga, _ := NewGPGSigner(ctx, keyID(alice), secretFile(t, alice))
	data := []byte("commit")
	signed, _ := SignData(ctx, data, nil, ed, ga)
	var sum oid.Checksum

	// Defaults: GPG on with the remote's keyring, nothing else.
	var ring bytes.Buffer
	if err := publicRing(t, alice).Serialize(&ring); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(repoDir, "origin.trustedkeys.gpg"), ring.Bytes(), 0o644)
	p, err := PolicyForRemote("origin", options(nil), o)
	if err != nil || p.GPG == nil || p.SummaryGPG != nil || p.Sign != nil {
		t.Fatalf("defaults: %+v %v", p, err)
	}
	v, err := p.VerifyCommit(ctx, sum, data, signed)
	if err != nil || v.GPG.Valid() != 1 || v.Text() != v.GPG.Signatures[0].Describe("GPG: ") {
		t.Fatalf("gpg commit: %v %+v", err, v)
	}
	// Another remote falls back to the (empty) global keyring.
	p, _ = PolicyForRemote("other", options(nil), o)
	if _, err := p.VerifyCommit(ctx, sum, data, signed); !errors.Is(err, ErrMissingKey) {
		t.Fatalf("other remote: %v", err)
	}

	// sign-verify as a list needs keys; as true it takes any configured.
	if _, err := PolicyForRemote("origin", options(map[string]string{"sign-verify": "ed25519"}), o); err == nil || err.Error() != "No keys found for required signapi type ed25519" {
		t.Fatalf("list without keys: %v", err)
	}
	if _, err := PolicyForRemote("origin", options(map[string]string{"sign-verify": "spki"}), o); !errors.Is(err, ErrUnknownEngine) {
		t.Fatalf("unknown engine: %v", err)
	}
	if _, err := PolicyForRemote("origin", options(map[string]string{"gpg-verify": "maybe"}), o); err == nil {
		t.Fatal("bad boolean accepted")
	}
	p, err = PolicyForRemote("origin", options(map[string]string{
		"gpg-verify": "false", "sign-verify": "ed25519", "verification-ed25519-key": pub,
	}), o)
	if err != nil || p.GPG != nil || len(p.Sign) != 1 {
		t.Fatalf("ed25519 policy: %+v %v", p, err)
	}
	if v, err := p.VerifyCommit(ctx, sum, data, signed); err != nil || v.Text() == "" || v.Sign == nil {
		t.Fatalf("ed25519 commit: %v", err)
	}
	if _, err := p.VerifyCommit(ctx, sum, data, nil); err == nil || err.Error() != "Can't verify commit without detached metadata" {
		t.Fatalf("no detached metadata: %v", err)
	}
	gpgOnly := AppendSignature(nil, KeyGPG, Signatures(signed, KeyGPG)[0])
	if _, err := p.VerifyCommit(ctx, sum, data, gpgOnly); err == nil || err.Error() != "Can't verify commit: No signatures found" {
		t.Fatalf("no ed25519 signature: %v", err)
	}
	kf := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(kf, []byte(other+"\n"), 0o644)
	p, _ = PolicyForRemote("origin", options(map[string]string{"gpg-verify": "false", "sign-verify": "true", "verification-ed25519-file": kf}), o)
	if _, err := p.VerifyCommit(ctx, sum, data, signed); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("wrong key file: %v", err)
	}
	if _, err := PolicyForRemote("origin", options(map[string]string{"sign-verify": "true", "verification-ed25519-file": "/nonexistent"}), o); err == nil {
		t.Fatal("missing key file accepted")
	}

	// Summaries.
	p, _ = PolicyForRemote("origin", options(map[string]string{"gpg-verify-summary": "true", "sign-verify-summary": "ed25519", "verification-ed25519-key": pub}), o)
	sig, _ := SignSummary(ctx, data, nil, ga, ed)
	if v, err := p.VerifySummary(ctx, data, sig); err != nil || v.GPG == nil || v.Sign == nil {
		t.Fatalf("summary: %v", err)
	}
	if _, err := p.VerifySummary(ctx, data, nil); err == nil || err.Error() != "GPG verification enabled, but no summary.sig found (use gpg-verify-summary=false in remote config to disable)" {
		t.Fatalf("no summary.sig: %v", err)
	}
	p.SummaryGPG = nil
	if _, err := p.VerifySummary(ctx, data, nil); err == nil || err.Error() != "Signature verification enabled, but no summary signatures found (use sign-verify-summary=false in remote config to disable)" {
		t.Fatalf("no summary.sig (signapi): %v", err)
	}
	if _, err := p.VerifySummary(ctx, data, []byte("junk")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("junk summary.sig: %v", err)
	}
}

func TestDummyEngineGated(t *testing.T) {
	t.Setenv("OSTREE_DUMMY_SIGN_ENABLED", "")
	if _, err := NewEngineSigner(EngineDummy, "k"); err == nil || err.Error() != "dummy signature type is only for ostree testing" {
		t.Fatalf("%v", err)
	}
	t.Setenv("OSTREE_DUMMY_SIGN_ENABLED", "1")
	ctx := context.Background()
	s, _ := NewEngineSigner(EngineDummy, "k")
	meta, _ := SignData(ctx, []byte("x"), nil, s)
	v, _ := NewEngineVerifier(EngineDummy)
	v.AddKey("k")
	if res, err := VerifyData(ctx, v, []byte("x"), meta); err != nil || res.Message != "dummy: Signature verified" {
		t.Fatalf("%v", err)
	}
	v.AddKey("other")
	if _, err := VerifyData(ctx, v, []byte("x"), meta); err == nil || err.Error() != "signature: dummy: incorrect signatures found: 1" {
		t.Fatalf("%v", err)
	}
	if _, err := VerifyData(ctx, v, nil, []gvariant.DictEntry{}); !errors.Is(err, ErrNoSignature) {
		t.Fatalf("%v", err)
	}
}
