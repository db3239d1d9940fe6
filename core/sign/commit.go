package sign

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/bits"
	"strings"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/keyring"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// CommitData returns a commit's exact object bytes (what signatures cover)
// and its detached metadata (nil when it has none).
func CommitData(ctx context.Context, r *repo.Repo, commit oid.Checksum) ([]byte, []gvariant.DictEntry, error) {
	data, err := r.ReadMeta(ctx, oid.Commit, commit)
	if err != nil {
		return nil, nil, fmt.Errorf("Failed to read commit: %w", err)
	}
	meta, err := r.LoadCommitMeta(ctx, commit)
	if err != nil {
		return nil, nil, fmt.Errorf("Failed to read detached metadata: %w", err)
	}
	return data, meta, nil
}

// writeDetached replaces a commit's detached metadata through a
// transaction (staged, synced, renamed into place).
func writeDetached(ctx context.Context, r *repo.Repo, commit oid.Checksum, meta []gvariant.DictEntry) error {
	tx, err := r.Begin(ctx)
	if err != nil {
		return err
	}
	if err := tx.WriteCommitMeta(ctx, commit, object.MarshalMeta(meta)); err != nil {
		tx.Abort()
		return err
	}
	return tx.Commit(ctx)
}

// SignCommit signs the commit's bytes with each signer and appends the
// signatures to its detached metadata (ostree.gpgsigs,
// ostree.sign.<engine>), keeping every other key, in one atomic write. As
// ostree, it refuses a GPG key that has already signed the commit
// ("Commit is already signed with GPG key …", wrapping ErrAlreadySigned).
func SignCommit(ctx context.Context, r *repo.Repo, commit oid.Checksum, signers ...Signer) error {
	data, meta, err := CommitData(ctx, r, commit)
	if err != nil {
		return err
	}
	for _, s := range signers {
		if g, ok := s.(*GPGSigner); ok && g.HasSigned(Signatures(meta, KeyGPG)) {
			return oerr(ErrAlreadySigned, "Commit is already signed with GPG key %s", g.spec)
		}
		if meta, err = SignData(ctx, data, meta, s); err != nil {
			return err
		}
	}
	return writeDetached(ctx, r, commit, meta)
}

// SignHook returns a hook for compose.Spec.Sign: it signs a commit being
// written (its exact bytes) with each signer and returns the detached
// metadata to store, the commit's own with the signatures appended. If
// the same commit is already in the repository, its signatures are kept
// and a GPG key that already signed it is refused, as SignCommit does.
func SignHook(r *repo.Repo, signers ...Signer) func(context.Context, []byte, []gvariant.DictEntry) ([]gvariant.DictEntry, error) {
	return func(ctx context.Context, commit []byte, detached []gvariant.DictEntry) ([]gvariant.DictEntry, error) {
		meta := append([]gvariant.DictEntry(nil), detached...)
		if old, err := r.LoadCommitMeta(ctx, oid.Checksum(sha256.Sum256(commit))); err == nil {
			for _, e := range old {
				if k, ok := e.Key.(string); ok && (k == KeyGPG || strings.HasPrefix(k, KeyPrefix)) {
					for _, sig := range Signatures(old, k) {
						meta = AppendSignature(meta, k, sig)
					}
				}
			}
		}
		for _, s := range signers {
			if g, ok := s.(*GPGSigner); ok && g.HasSigned(Signatures(meta, KeyGPG)) {
				return nil, oerr(ErrAlreadySigned, "Commit is already signed with GPG key %s", g.spec)
			}
		}
		return SignData(ctx, commit, meta, signers...)
	}
}

// VerifyCommit checks a stored commit's signatures for one engine.
func VerifyCommit(ctx context.Context, r *repo.Repo, commit oid.Checksum, v Verifier) (*Result, error) {
	data, meta, err := CommitData(ctx, r, commit)
	if err != nil {
		return nil, err
	}
	return VerifyData(ctx, v, data, meta)
}

// DeleteGPGSignatures removes from a commit's detached metadata every GPG
// signature made by a key that one of specs names in k (the keys the
// signatures are checked against; ostree uses the repository's remote
// keyrings and the global ones). It returns how many were removed.
// Unlike ostree, which drops the first matching signature per key ID,
// every signature of a named key goes.
func DeleteGPGSignatures(ctx context.Context, r *repo.Repo, commit oid.Checksum, k *keyring.Keyring, specs []string) (int, error) {
	data, meta, err := CommitData(ctx, r, commit)
	if err != nil {
		return 0, err
	}
	blobs := Signatures(meta, KeyGPG)
	if len(blobs) == 0 {
		return 0, nil
	}
	// One result per blob, so that an index names an aay element.
	drop := make([]bool, len(blobs))
	v := NewGPGVerifier(k)
	for i, b := range blobs {
		res, err := v.Verify(ctx, data, [][]byte{b})
		if res == nil {
			return 0, err
		}
		for _, spec := range specs {
			if len(findSigs(k, res, spec)) > 0 {
				drop[i] = true
			}
		}
	}
	var keep [][]byte
	for i, b := range blobs {
		if !drop[i] {
			keep = append(keep, b)
		}
	}
	n := len(blobs) - len(keep)
	if n == 0 {
		return 0, nil
	}
	return n, writeDetached(ctx, r, commit, SetSignatures(meta, KeyGPG, keep))
}

// DeleteSignatures removes from a commit's detached metadata the
// signatures of v's engine that v verifies, one by one; it returns how
// many went.
func DeleteSignatures(ctx context.Context, r *repo.Repo, commit oid.Checksum, v Verifier) (int, error) {
	data, meta, err := CommitData(ctx, r, commit)
	if err != nil {
		return 0, err
	}
	key := MetadataKey(v.Engine())
	var keep [][]byte
	blobs := Signatures(meta, key)
	for _, b := range blobs {
		if _, err := v.Verify(ctx, data, [][]byte{b}); err != nil {
			keep = append(keep, b)
		}
	}
	n := len(blobs) - len(keep)
	if n == 0 {
		return 0, nil
	}
	return n, writeDetached(ctx, r, commit, SetSignatures(meta, key, keep))
}

// SignSummary signs the bytes of a summary file with each signer and
// returns the new summary.sig: old's signatures (old may be nil) with the
// new ones appended, an a{sv} in normal form.
func SignSummary(ctx context.Context, summary, old []byte, signers ...Signer) ([]byte, error) {
	meta, err := ParseMeta(old)
	if err != nil {
		return nil, fmt.Errorf("summary.sig: %w", err)
	}
	if meta, err = SignData(ctx, summary, meta, signers...); err != nil {
		return nil, err
	}
	return object.MarshalMeta(meta), nil
}

// VerifySummary checks a summary's bytes against its summary.sig with
// one engine.
func VerifySummary(ctx context.Context, v Verifier, summary, sig []byte) (*Result, error) {
	meta, err := ParseMeta(sig)
	if err != nil {
		return nil, fmt.Errorf("summary.sig: %w", err)
	}
	return VerifyData(ctx, v, summary, meta)
}

// SuperblockMagic starts a signed static-delta superblock: stored
// big-endian in the "t" of (taya{sv}), its bytes spell "OSTSGNDT".
const SuperblockMagic uint64 = 0x4F535453474E4454

var signedSuperblockType = gvariant.MustParseType("(taya{sv})")

// IsSignedSuperblock reports whether b is a signed superblock wrapper.
func IsSignedSuperblock(b []byte) bool { return len(b) >= 8 && string(b[:8]) == "OSTSGNDT" }

// SignSuperblock wraps an unsigned superblock in ostree's signed form,
// (taya{sv}) = (magic, superblock, {ostree.sign.<engine>: signatures}),
// each signer signing the superblock bytes. As in ostree only the signapi
// engines (ed25519) sign deltas; GPG users sign the summary instead.
func SignSuperblock(ctx context.Context, superblock []byte, signers ...Signer) ([]byte, error) {
	if len(signers) == 0 {
		return nil, oerr(ErrNoKeys, "no keys to sign the static delta with")
	}
	for _, s := range signers {
		if s.Engine() == EngineGPG {
			return nil, oerr(ErrUnknownEngine, "Requested signature type is not implemented")
		}
	}
	meta, err := SignData(ctx, superblock, nil, signers...)
	if err != nil {
		return nil, err
	}
	return gvariant.Marshal(signedSuperblockType, gvariant.Tuple{bits.ReverseBytes64(SuperblockMagic), superblock, meta})
}

// OpenSignedSuperblock splits a signed superblock into the unsigned
// superblock bytes and the signature dictionary.
func OpenSignedSuperblock(b []byte) ([]byte, []gvariant.DictEntry, error) {
	if !IsSignedSuperblock(b) {
		return nil, nil, oerr(ErrNoSignature, "no signatures in static-delta")
	}
	v, err := gvariant.Unmarshal(signedSuperblockType, b)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: signed superblock: %w", ErrMalformed, err)
	}
	t := v.(gvariant.Tuple)
	meta, _ := t[2].([]gvariant.DictEntry)
	return t[1].([]byte), meta, nil
}

// VerifySuperblock checks a signed superblock with one engine and returns
// the unsigned superblock inside it.
func VerifySuperblock(ctx context.Context, v Verifier, b []byte) ([]byte, *Result, error) {
	inner, meta, err := OpenSignedSuperblock(b)
	if err != nil {
		return nil, nil, err
	}
	key := MetadataKey(v.Engine())
	if Signatures(meta, key) == nil {
		return nil, nil, oerr(ErrNoSignature, "no signature for '%s' in static-delta superblock", key)
	}
	res, err := VerifyData(ctx, v, inner, meta)
	return inner, res, err
}

// SuperblockEngines lists the engines that signed a superblock (the
// ostree.sign.* keys), for `static-delta show`.
func SuperblockEngines(b []byte) []string {
	_, meta, err := OpenSignedSuperblock(b)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range meta {
		if k, ok := e.Key.(string); ok && len(k) > len(KeyPrefix) && k[:len(KeyPrefix)] == KeyPrefix {
			out = append(out, k[len(KeyPrefix):])
		}
	}
	return out
}
