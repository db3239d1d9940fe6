package sign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/keyring"
	"github.com/groveos/grove/core/object"
)

// Engine names, as ostree spells them (`--sign-type=`, `sign-verify=`).
const (
	EngineGPG     = "gpg"
	EngineEd25519 = "ed25519"
)

// Detached-metadata keys. Each holds an "aay": one signature per element.
const (
	KeyGPG     = "ostree.gpgsigs"      // binary OpenPGP detached signatures
	KeyPrefix  = "ostree.sign."        // + engine name, for the signapi engines
	KeyEd25519 = "ostree.sign.ed25519" // raw 64-byte Ed25519 signatures
)

// MetadataKey is the detached-metadata key under which engine keeps its
// signatures.
func MetadataKey(engine string) string {
	if engine == EngineGPG {
		return KeyGPG
	}
	return KeyPrefix + engine
}

// Signer makes detached signatures with one key of one engine.
type Signer interface {
	Engine() string
	// Sign returns one detached signature over data.
	Sign(ctx context.Context, data []byte) ([]byte, error)
}

// Verifier checks the signatures one engine stored under its metadata key.
//
// Verify returns a nil error only when at least one signature is valid
// for a trusted key. Otherwise the error carries ostree's wording and
// wraps one of the Err sentinels; the Result, when not nil, still
// describes every signature (`show` prints it either way).
type Verifier interface {
	Engine() string
	Verify(ctx context.Context, data []byte, sigs [][]byte) (*Result, error)
}

// Errors. Failures ostree words are *Error values wrapping one of these,
// so that callers tell them apart with errors.Is while the message stays
// ostree's.
var (
	ErrNoSignature      = errors.New("sign: no signature")
	ErrMissingKey       = errors.New("sign: public key not found")
	ErrInvalidSignature = errors.New("sign: invalid signature")
	ErrExpiredSignature = errors.New("sign: signature expired")
	ErrExpiredKey       = errors.New("sign: key expired")
	ErrRevokedKey       = errors.New("sign: key revoked")
	ErrNoKeys           = errors.New("sign: no keys")
	ErrAlreadySigned    = errors.New("sign: already signed with this key")
	ErrBadKey           = errors.New("sign: malformed key")
	ErrUnknownEngine    = errors.New("sign: requested signature type is not implemented")
	ErrMalformed        = errors.New("sign: malformed signature data")
)

// Error is a failure in ostree's words: Msg is what ostree prints, Code
// the sentinel it corresponds to.
type Error struct {
	Code error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Code }

func oerr(code error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Result describes the signatures one engine found over some data.
type Result struct {
	Engine     string
	Signatures []Signature
	// Message is the signapi engines' success line, e.g. "ed25519:
	// Signature verified successfully with key '…'".
	Message string
}

// Valid counts the valid signatures.
func (r *Result) Valid() int {
	if r == nil {
		return 0
	}
	n := 0
	for _, s := range r.Signatures {
		if s.Valid {
			n++
		}
	}
	return n
}

// Signature is what is known about one signature, in the shape of
// ostree's OstreeGpgVerifyResult attributes.
type Signature struct {
	Valid       bool
	SigExpired  bool
	KeyExpired  bool
	KeyRevoked  bool
	KeyMissing  bool
	Fingerprint string // of the signing (sub)key, upper-case hex; the issuer ID when the key is missing
	// PrimaryFingerprint is the fingerprint of the signing key's primary
	// key ("" when the key is missing).
	PrimaryFingerprint string
	Created            time.Time
	Expires            time.Time // signature expiry; zero if none
	KeyExpires         time.Time // signing key expiry; zero if none
	PrimaryKeyExpires  time.Time
	Algorithm          string // gpgme's name: "RSA", "DSA", "EdDSA", "ECDSA", …
	HashAlgorithm      string
	UserName           string
	UserEmail          string
}

// KeyID is the last 16 hex digits of the fingerprint, as ostree prints it.
func (s *Signature) KeyID() string { return lastHex(s.Fingerprint) }

func lastHex(fpr string) string {
	if len(fpr) > 16 {
		return fpr[len(fpr)-16:]
	}
	return fpr
}

// Describe renders one signature as ostree_gpg_verify_result_describe
// does, each line starting with prefix. Times are printed in the local
// time zone in the C locale's "%c" form.
func (s *Signature) Describe(prefix string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%sSignature made %s using %s key ID %s\n", prefix, cTime(s.Created), s.Algorithm, s.KeyID())
	b.WriteString(prefix)
	switch {
	case s.KeyMissing:
		b.WriteString("Can't check signature: public key not found\n")
	case s.Valid:
		fmt.Fprintf(&b, "Good signature from \"%s <%s>\"\n", s.UserName, s.UserEmail)
	case s.KeyRevoked:
		b.WriteString("Key revoked\n")
	case s.SigExpired:
		fmt.Fprintf(&b, "Expired signature from \"%s <%s>\"\n", s.UserName, s.UserEmail)
	default:
		fmt.Fprintf(&b, "BAD signature from \"%s <%s>\"\n", s.UserName, s.UserEmail)
	}
	sub := s.Fingerprint != s.PrimaryFingerprint
	if !s.KeyMissing && sub {
		fmt.Fprintf(&b, "%sPrimary key ID %s\n", prefix, lastHex(s.PrimaryFingerprint))
	}
	expire := func(what string, t time.Time, expired bool) {
		verb := "expires"
		if expired {
			verb = "expired"
		}
		fmt.Fprintf(&b, "%s%s %s %s\n", prefix, what, verb, cTime(t))
	}
	if !s.Expires.IsZero() {
		expire("Signature", s.Expires, s.SigExpired)
	}
	if !s.KeyExpires.IsZero() {
		expire("Key", s.KeyExpires, s.KeyExpired)
	}
	if !s.PrimaryKeyExpires.IsZero() && sub {
		expire("Primary key", s.PrimaryKeyExpires, s.KeyExpired)
	}
	return b.String()
}

func cTime(t time.Time) string { return keyring.CTime(t) }

// Describe renders every signature as `ostree show` lists them after its
// "Found N signatures:" line: a blank line, then the signature's lines.
func (r *Result) Describe(prefix string) string {
	var b strings.Builder
	for i := range r.Signatures {
		b.WriteString("\n")
		b.WriteString(r.Signatures[i].Describe(prefix))
	}
	return b.String()
}

// ShowReport is what `ostree show` prints after a signed commit: "Found N
// signature(s):" and each signature described.
func (r *Result) ShowReport() string {
	return fmt.Sprintf("Found %d signature%s:\n%s", len(r.Signatures), plural(len(r.Signatures)), r.Describe("  "))
}

// PullReport is what `ostree pull` prints for each GPG-verified commit
// (ostree_print_gpg_verify_result; the pull prints a blank line first).
func (r *Result) PullReport() string {
	return fmt.Sprintf("GPG: Verification enabled, found %d signature%s:\n%s", len(r.Signatures), plural(len(r.Signatures)), r.Describe("  "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// requireValid turns a GPG result without a valid signature into ostree's
// error: every signature described, newest first, the code taken from the
// last one (ostree_gpg_verify_result_require_valid_signature).
func requireValid(r *Result) error {
	if r.Valid() > 0 {
		return nil
	}
	if len(r.Signatures) == 0 {
		return oerr(ErrNoSignature, "No GPG signatures found")
	}
	var b strings.Builder
	for i := len(r.Signatures) - 1; i >= 0; i-- {
		b.WriteString(r.Signatures[i].Describe(""))
	}
	last := r.Signatures[len(r.Signatures)-1]
	code := ErrInvalidSignature
	switch {
	case last.KeyMissing:
		code = ErrMissingKey
	case last.KeyRevoked:
		code = ErrRevokedKey
	case last.KeyExpired:
		code = ErrExpiredKey
	case last.SigExpired:
		code = ErrExpiredSignature
	}
	return &Error{Code: code, Msg: strings.TrimRight(b.String(), "\n")}
}

// Signatures returns the signatures stored under key in an a{sv}
// (detached metadata, summary.sig, a signed superblock's metadata). A
// missing key, or a value that is not an "aay", yields nil, as
// g_variant_lookup_value does.
func Signatures(meta []gvariant.DictEntry, key string) [][]byte {
	v, ok := object.LookupMeta(meta, key)
	if !ok || v.Type.String() != "aay" {
		return nil
	}
	var out [][]byte
	switch a := v.Value.(type) {
	case [][]byte:
		out = a
	case []any:
		for _, e := range a {
			if b, ok := e.([]byte); ok {
				out = append(out, b)
			}
		}
	}
	if out == nil {
		out = [][]byte{} // present but empty
	}
	return out
}

// AppendSignature returns meta with sig added to the "aay" under key,
// keeping every other entry and its position; the key is added at the
// end when absent (or when its value had another type, which it replaces).
func AppendSignature(meta []gvariant.DictEntry, key string, sig []byte) []gvariant.DictEntry {
	old := Signatures(meta, key)
	return SetSignatures(meta, key, append(append([][]byte{}, old...), sig))
}

// SetSignatures returns meta with the "aay" under key replaced by sigs
// (removed when sigs is empty).
func SetSignatures(meta []gvariant.DictEntry, key string, sigs [][]byte) []gvariant.DictEntry {
	out := make([]gvariant.DictEntry, 0, len(meta)+1)
	placed := false
	for _, e := range meta {
		if k, ok := e.Key.(string); ok && k == key {
			if !placed && len(sigs) > 0 {
				out = append(out, gvariant.DictEntry{Key: key, Value: gvariant.NewVariant("aay", sigs)})
			}
			placed = true
			continue
		}
		out = append(out, e)
	}
	if !placed && len(sigs) > 0 {
		out = append(out, gvariant.DictEntry{Key: key, Value: gvariant.NewVariant("aay", sigs)})
	}
	return out
}

// SignData signs data with every signer and returns meta (an a{sv}, nil
// for none) with the signatures appended under each engine's key.
func SignData(ctx context.Context, data []byte, meta []gvariant.DictEntry, signers ...Signer) ([]gvariant.DictEntry, error) {
	for _, s := range signers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sig, err := s.Sign(ctx, data)
		if err != nil {
			return nil, err
		}
		meta = AppendSignature(meta, MetadataKey(s.Engine()), sig)
	}
	return meta, nil
}

// VerifyData checks data against the signatures in meta with one
// verifier (the signatures under its engine's key). With no signatures
// for it the error wraps ErrNoSignature, worded as ostree words it for
// that engine.
func VerifyData(ctx context.Context, v Verifier, data []byte, meta []gvariant.DictEntry) (*Result, error) {
	sigs := Signatures(meta, MetadataKey(v.Engine()))
	if sigs == nil {
		if v.Engine() == EngineGPG {
			return nil, oerr(ErrNoSignature, "GPG verification enabled, but no signatures found (use gpg-verify=false in remote config to disable)")
		}
		return nil, oerr(ErrNoSignature, "No signatures found")
	}
	return v.Verify(ctx, data, sigs)
}

// ParseMeta decodes an a{sv} (a .commitmeta object, summary.sig); empty
// input is an empty dictionary.
func ParseMeta(b []byte) ([]gvariant.DictEntry, error) {
	if len(b) == 0 {
		return nil, nil
	}
	m, err := object.UnmarshalMeta(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return m, nil
}
