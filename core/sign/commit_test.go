package sign

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// testCommit writes a one-file commit with the given detached metadata.
func testCommit(t *testing.T, detached []gvariant.DictEntry) (*repo.Repo, oid.Checksum) {
	t.Helper()
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	dir := t.TempDir()
	repotest.WriteFile(t, dir+"/a", "hello\n", 0o644)
	res, err := compose.Commit(ctx, r, compose.Spec{
		Branch: "main", Subject: "s", Timestamp: time.Unix(1577836800, 0), Detached: detached,
		Trees: []compose.TreeSource{{Kind: "dir", Arg: dir}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := res.Commit
	return r, sum
}

func TestSignCommit(t *testing.T) {
	ctx := context.Background()
	extra := []gvariant.DictEntry{{Key: "custom", Value: gvariant.NewVariant("s", "kept")}}
	r, sum := testCommit(t, extra)
	alice, bob := genKey(t, "Alice", time.Time{}, 0), genKey(t, "Bob", time.Time{}, 0)
	sa, err := NewGPGSigner(ctx, keyID(alice), secretFile(t, alice))
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := NewGPGSigner(ctx, keyID(bob), secretFile(t, bob))
	edSec, edPub := newEd25519(t)
	se, _ := NewEd25519Signer(edSec)
	if err := SignCommit(ctx, r, sum, sa, se); err != nil {
		t.Fatal(err)
	}
	if err := SignCommit(ctx, r, sum, sb); err != nil {
		t.Fatal(err)
	}
	// Signing again with a key that already signed is refused, and
	// nothing is written.
	before, _ := r.ReadMeta(ctx, oid.CommitMeta, sum)
	err = SignCommit(ctx, r, sum, sa)
	if !errors.Is(err, ErrAlreadySigned) || err.Error() != "Commit is already signed with GPG key "+keyID(alice) {
		t.Fatalf("second signature: %v", err)
	}
	after, _ := r.ReadMeta(ctx, oid.CommitMeta, sum)
	if !bytes.Equal(before, after) {
		t.Fatal("refused signing changed the detached metadata")
	}

	data, meta, err := CommitData(ctx, r, sum)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := object.LookupMeta(meta, "custom"); !ok || v.Value != "kept" {
		t.Fatalf("other detached metadata lost: %v", meta)
	}
	if n := len(Signatures(meta, KeyGPG)); n != 2 {
		t.Fatalf("%d GPG signatures", n)
	}
	if sigs := Signatures(meta, KeyEd25519); len(sigs) != 1 || len(sigs[0]) != 64 {
		t.Fatalf("ed25519 signatures: %v", sigs)
	}
	// The signatures cover the exact .commit bytes.
	if c, _ := r.ReadMeta(ctx, oid.Commit, sum); !bytes.Equal(c, data) {
		t.Fatal("CommitData is not the commit object")
	}
	res, err := VerifyCommit(ctx, r, sum, NewGPGVerifier(publicRing(t, alice)))
	if err != nil || res.Valid() != 1 || len(res.Signatures) != 2 {
		t.Fatalf("verify: %v %+v", err, res)
	}
	ev := &Ed25519Verifier{}
	ev.AddKey(edPub)
	if _, err := VerifyCommit(ctx, r, sum, ev); err != nil {
		t.Fatal(err)
	}

	// --delete: Alice's signature goes, Bob's and the rest stay.
	n, err := DeleteGPGSignatures(ctx, r, sum, publicRing(t, alice, bob), []string{keyID(alice), "nobody"})
	if err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	_, meta, _ = CommitData(ctx, r, sum)
	if len(Signatures(meta, KeyGPG)) != 1 || len(Signatures(meta, KeyEd25519)) != 1 {
		t.Fatalf("after delete: %v", meta)
	}
	if _, err := VerifyCommit(ctx, r, sum, NewGPGVerifier(publicRing(t, alice))); !errors.Is(err, ErrMissingKey) {
		t.Fatalf("alice's signature still there: %v", err)
	}
	// Deleting the last GPG signature removes the key.
	if n, err := DeleteGPGSignatures(ctx, r, sum, publicRing(t, bob), []string{"Bob"}); err != nil || n != 1 {
		t.Fatalf("delete bob: %d %v", n, err)
	}
	_, meta, _ = CommitData(ctx, r, sum)
	if Signatures(meta, KeyGPG) != nil {
		t.Fatalf("empty ostree.gpgsigs left: %v", meta)
	}
	if _, err := VerifyCommit(ctx, r, sum, NewGPGVerifier(publicRing(t, bob))); !errors.Is(err, ErrNoSignature) {
		t.Fatalf("no signatures: %v", err)
	}
	// A commit that is not there.
	if err := SignCommit(ctx, r, oid.Checksum{1}, se); !errors.Is(err, repo.ErrNotFound) || !strings.HasPrefix(err.Error(), "Failed to read commit") {
		t.Fatalf("missing commit: %v", err)
	}
}

func TestSummarySignature(t *testing.T) {
	ctx := context.Background()
	summary := []byte("summary bytes")
	alice := genKey(t, "Alice", time.Time{}, 0)
	sa, _ := NewGPGSigner(ctx, keyID(alice), secretFile(t, alice))
	edSec, edPub := newEd25519(t)
	se, _ := NewEd25519Signer(edSec)
	sig, err := SignSummary(ctx, summary, nil, sa)
	if err != nil {
		t.Fatal(err)
	}
	// Adding to an existing summary.sig keeps its signatures.
	sig, err = SignSummary(ctx, summary, sig, se)
	if err != nil {
		t.Fatal(err)
	}
	if !gvariant.IsNormal(gvariant.MustParseType("a{sv}"), sig) {
		t.Fatal("summary.sig not in normal form")
	}
	if _, err := VerifySummary(ctx, NewGPGVerifier(publicRing(t, alice)), summary, sig); err != nil {
		t.Fatal(err)
	}
	ev := &Ed25519Verifier{}
	ev.AddKey(edPub)
	if _, err := VerifySummary(ctx, ev, summary, sig); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifySummary(ctx, ev, []byte("other summary"), sig); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("altered summary: %v", err)
	}
	if _, err := VerifySummary(ctx, ev, summary, []byte{1, 2, 3}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("garbage summary.sig: %v", err)
	}
}

func TestSignedSuperblock(t *testing.T) {
	ctx := context.Background()
	sb := []byte("an unsigned superblock")
	sec, pub := newEd25519(t)
	s, _ := NewEd25519Signer(sec)
	signed, err := SignSuperblock(ctx, sb, s)
	if err != nil {
		t.Fatal(err)
	}
	if !IsSignedSuperblock(signed) || string(signed[:8]) != "OSTSGNDT" {
		t.Fatalf("magic: %q", signed[:8])
	}
	if IsSignedSuperblock(sb) {
		t.Fatal("unsigned superblock taken for signed")
	}
	if got := SuperblockEngines(signed); len(got) != 1 || got[0] != "ed25519" {
		t.Fatalf("engines: %v", got)
	}
	v := &Ed25519Verifier{}
	v.AddKey(pub)
	inner, _, err := VerifySuperblock(ctx, v, signed)
	if err != nil || !bytes.Equal(inner, sb) {
		t.Fatalf("verify: %v %q", err, inner)
	}
	_, other := newEd25519(t)
	v2 := &Ed25519Verifier{}
	v2.AddKey(other)
	if _, _, err := VerifySuperblock(ctx, v2, signed); !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, _, err := VerifySuperblock(ctx, v, sb); !errors.Is(err, ErrNoSignature) || err.Error() != "no signatures in static-delta" {
		t.Fatalf("unsigned: %v", err)
	}
	if _, err := SignSuperblock(ctx, sb); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("no keys: %v", err)
	}
}

// TestSignHook signs inside compose.Commit's transaction; committing the
// identical commit again keeps its signatures and refuses a key that
// already signed.
func TestSignHook(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeBareUser)
	dir := t.TempDir()
	repotest.WriteFile(t, dir+"/a", "hello\n", 0o644)
	alice, bob := genKey(t, "Alice", time.Time{}, 0), genKey(t, "Bob", time.Time{}, 0)
	sa, _ := NewGPGSigner(ctx, keyID(alice), secretFile(t, alice))
	sb, _ := NewGPGSigner(ctx, keyID(bob), secretFile(t, bob))
	edSec, edPub := newEd25519(t)
	se, _ := NewEd25519Signer(edSec)
	commit := func(signers ...Signer) (oid.Checksum, error) {
		res, err := compose.Commit(ctx, r, compose.Spec{
			Branch: "main", Parent: "none", Subject: "s", Timestamp: time.Unix(1577836800, 0),
			Detached: []gvariant.DictEntry{{Key: "note", Value: gvariant.NewVariant("s", "n")}},
			Trees:    []compose.TreeSource{{Kind: "dir", Arg: dir}},
			Sign:     SignHook(r, signers...),
		})
		if err != nil {
			return oid.Checksum{}, err
		}
		return res.Commit, nil
	}
	sum, err := commit(se, sa)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyCommit(ctx, r, sum, NewGPGVerifier(publicRing(t, alice))); err != nil {
		t.Fatal(err)
	}
	ev := &Ed25519Verifier{}
	ev.AddKey(edPub)
	if _, err := VerifyCommit(ctx, r, sum, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := commit(sa); !errors.Is(err, ErrAlreadySigned) {
		t.Fatalf("same key again: %v", err)
	}
	if again, err := commit(sb); err != nil || again != sum {
		t.Fatalf("second key: %v", err)
	}
	_, meta, _ := CommitData(ctx, r, sum)
	if len(Signatures(meta, KeyGPG)) != 2 || len(Signatures(meta, KeyEd25519)) != 1 {
		t.Fatalf("signatures after re-commit: %v", meta)
	}
	if v, ok := object.LookupMeta(meta, "note"); !ok || v.Value != "n" {
		t.Fatalf("detached metadata: %v", meta)
	}
}
