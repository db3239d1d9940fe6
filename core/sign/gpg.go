package sign

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/groveos/grove/core/keyring"
)

// GPGVerifier checks OpenPGP detached signatures against a keyring.
type GPGVerifier struct {
	Keyring *keyring.Keyring
	// Now is the time keys and signatures are judged at; nil means
	// time.Now.
	Now func() time.Time
}

// NewGPGVerifier returns a verifier trusting the keys of k.
func NewGPGVerifier(k *keyring.Keyring) *GPGVerifier { return &GPGVerifier{Keyring: k} }

// Engine is "gpg".
func (v *GPGVerifier) Engine() string { return EngineGPG }

func (v *GPGVerifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// ParseGPGSignatures decodes the signature packets of the "aay" elements
// under ostree.gpgsigs. Each element is one binary detached signature;
// ostree concatenates them into one stream, so an element may also hold
// several packets. Anything but signature packets is an error.
func ParseGPGSignatures(blobs [][]byte) ([]*packet.Signature, error) {
	var out []*packet.Signature
	for i, b := range blobs {
		r := packet.NewReader(bytes.NewReader(b))
		n := 0
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, oerr(ErrMalformed, "GPG: Unable to complete signature verification: signature %d: %v", i, err)
			}
			sig, ok := p.(*packet.Signature)
			if !ok {
				return nil, oerr(ErrMalformed, "GPG: Unable to complete signature verification: signature %d: not a signature packet", i)
			}
			out = append(out, sig)
			n++
		}
		if n == 0 {
			return nil, oerr(ErrMalformed, "GPG: Unable to complete signature verification: signature %d is empty", i)
		}
	}
	return out, nil
}

// Verify checks every signature over data. The Result lists all of them
// in order; the error is nil only when one is valid (see Verifier).
func (v *GPGVerifier) Verify(ctx context.Context, data []byte, blobs [][]byte) (*Result, error) {
	sigs, err := ParseGPGSignatures(blobs)
	if err != nil {
		return nil, err
	}
	res := &Result{Engine: EngineGPG}
	for _, sig := range sigs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res.Signatures = append(res.Signatures, v.check(data, sig))
	}
	return res, requireValid(res)
}

// issuerID is the 64-bit key ID a signature names, from its issuer key ID
// subpacket or its issuer fingerprint.
func issuerID(sig *packet.Signature) (uint64, string, bool) {
	fp := sig.IssuerFingerprint
	switch {
	case len(fp) == 20: // v4
		id := binary.BigEndian.Uint64(fp[12:])
		return id, keyring.Fingerprint(fp), true
	case len(fp) == 32: // v5/v6: the key ID is the first 8 bytes
		id := binary.BigEndian.Uint64(fp[:8])
		return id, keyring.Fingerprint(fp), true
	case sig.IssuerKeyId != nil:
		return *sig.IssuerKeyId, keyIDHex(*sig.IssuerKeyId), true
	}
	return 0, "", false
}

// check judges one signature as gpgme reports it to ostree.
func (v *GPGVerifier) check(data []byte, sig *packet.Signature) Signature {
	now := v.now()
	s := Signature{Created: sig.CreationTime, Algorithm: algorithmName(sig.PubKeyAlgo)}
	if sig.SigLifetimeSecs != nil && *sig.SigLifetimeSecs != 0 {
		s.Expires = sig.CreationTime.Add(time.Duration(*sig.SigLifetimeSecs) * time.Second)
		s.SigExpired = sig.SigExpired(now)
	}
	id, issuer, ok := issuerID(sig)
	s.Fingerprint = issuer
	var keys []openpgp.Key
	if ok && v.Keyring != nil {
		keys = v.Keyring.Entities().KeysByIdUsage(id, packet.KeyFlagSign)
	}
	if len(keys) == 0 {
		s.KeyMissing = true
		return s
	}
	key, good := keys[0], false
	for _, k := range keys {
		if verifySig(k.PublicKey, sig, data) == nil {
			key, good = k, true
			break
		}
	}
	e := key.Entity
	s.Fingerprint = keyring.Fingerprint(key.PublicKey.Fingerprint)
	s.PrimaryFingerprint = keyring.Fingerprint(e.PrimaryKey.Fingerprint)
	if id := e.PrimaryIdentity(); id != nil {
		s.UserName, s.UserEmail = id.UserId.Name, id.UserId.Email
	} else {
		s.UserName, s.UserEmail = "[unknown name]", "[unknown email]"
	}
	primarySelf, _ := e.PrimarySelfSignature()
	if t, ok := keyring.KeyExpiry(e.PrimaryKey, primarySelf); ok {
		s.PrimaryKeyExpires = t
	}
	if key.PublicKey == e.PrimaryKey {
		s.KeyExpires = s.PrimaryKeyExpires
	} else if t, ok := keyring.KeyExpiry(key.PublicKey, key.SelfSignature); ok {
		s.KeyExpires = t
	}
	s.KeyExpired = !s.KeyExpires.IsZero() && !now.Before(s.KeyExpires) ||
		!s.PrimaryKeyExpires.IsZero() && !now.Before(s.PrimaryKeyExpires)
	s.KeyRevoked = e.Revoked(now) || key.PublicKey != e.PrimaryKey && key.Revoked(now)
	s.Valid = good && !s.KeyRevoked && !s.KeyExpired && !s.SigExpired
	return s
}

// verifySig checks sig over data with pk (binary or canonical-text
// signatures).
func verifySig(pk *packet.PublicKey, sig *packet.Signature, data []byte) error {
	if sig.SigType != packet.SigTypeBinary && sig.SigType != packet.SigTypeText {
		return errors.New("not a document signature")
	}
	h, err := sig.PrepareVerify()
	if err != nil {
		return err
	}
	if sig.SigType == packet.SigTypeText {
		th := openpgp.NewCanonicalTextHash(h)
		th.Write(data)
	} else {
		h.Write(data)
	}
	return pk.VerifySignature(h, sig)
}

// algorithmName is gpgme_pubkey_algo_name.
func algorithmName(a packet.PublicKeyAlgorithm) string {
	switch a {
	case packet.PubKeyAlgoRSA:
		return "RSA"
	case packet.PubKeyAlgoRSAEncryptOnly:
		return "RSA-E"
	case packet.PubKeyAlgoRSASignOnly:
		return "RSA-S"
	case packet.PubKeyAlgoElGamal:
		return "ELG-E"
	case packet.PubKeyAlgoDSA:
		return "DSA"
	case packet.PubKeyAlgoECDH:
		return "ECDH"
	case packet.PubKeyAlgoECDSA:
		return "ECDSA"
	case packet.PubKeyAlgoEdDSA:
		return "EdDSA"
	}
	return "[unknown name]"
}

// Find returns the signatures of res made by any key of the entity spec
// names in k (by primary fingerprint, as ostree_gpg_verify_result_lookup
// matches), as indexes into res.Signatures.
func findSigs(k *keyring.Keyring, res *Result, spec string) []int {
	ents := k.Lookup(spec)
	var out []int
	for i, s := range res.Signatures {
		for _, e := range ents {
			if !s.KeyMissing && s.PrimaryFingerprint == keyring.Fingerprint(e.PrimaryKey.Fingerprint) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}
