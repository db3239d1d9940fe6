package sign

import (
	"context"
	"os"
)

// EngineDummy is ostree's test engine: the "signature" is the key string
// itself. ostree enables it only when OSTREE_DUMMY_SIGN_ENABLED=1, and so
// does grove; it lets the signapi formats (detached metadata, summary.sig,
// signed superblocks) be checked against a Debian ostree, which lacks
// ed25519.
const EngineDummy = "dummy"

func dummyEnabled() error {
	if os.Getenv("OSTREE_DUMMY_SIGN_ENABLED") != "1" {
		return oerr(ErrUnknownEngine, "dummy signature type is only for ostree testing")
	}
	return nil
}

// DummySigner "signs" with its key string.
type DummySigner struct{ key string }

// Engine is "dummy".
func (s *DummySigner) Engine() string { return EngineDummy }

// Sign returns the key's bytes.
func (s *DummySigner) Sign(ctx context.Context, data []byte) ([]byte, error) {
	if err := dummyEnabled(); err != nil {
		return nil, err
	}
	return []byte(s.key), nil
}

// DummyVerifier accepts a signature equal to its key string.
type DummyVerifier struct{ key string }

// Engine is "dummy".
func (v *DummyVerifier) Engine() string { return EngineDummy }

// AddKey sets the key (the dummy engine holds one).
func (v *DummyVerifier) AddKey(k string) error { v.key = k; return nil }

// AddKeyFile is not implemented by ostree's dummy engine either.
func (v *DummyVerifier) AddKeyFile(path string, revoked bool) error {
	return oerr(ErrUnknownEngine, "not implemented")
}

// Verify accepts the data if one signature equals the key.
func (v *DummyVerifier) Verify(ctx context.Context, data []byte, sigs [][]byte) (*Result, error) {
	if err := dummyEnabled(); err != nil {
		return nil, err
	}
	for _, s := range sigs {
		if string(s) == v.key {
			return &Result{Engine: EngineDummy, Signatures: []Signature{{Valid: true}}, Message: "dummy: Signature verified"}, nil
		}
	}
	if len(sigs) > 0 {
		return nil, oerr(ErrInvalidSignature, "signature: dummy: incorrect signatures found: %d", len(sigs))
	}
	return nil, oerr(ErrNoSignature, "signature: dummy: no signatures")
}

// KeyedVerifier is a signapi verifier that takes keys as ostree passes
// them: base64 strings, or files of one key per line.
type KeyedVerifier interface {
	Verifier
	AddKey(key string) error
	AddKeyFile(path string, revoked bool) error
}

// NewEngineVerifier returns an empty verifier for a `--sign-type` or a
// `sign-verify=` engine name.
func NewEngineVerifier(engine string) (KeyedVerifier, error) {
	switch engine {
	case "", EngineEd25519:
		return &Ed25519Verifier{}, nil
	case EngineDummy:
		if err := dummyEnabled(); err != nil {
			return nil, err
		}
		return &DummyVerifier{}, nil
	}
	return nil, oerr(ErrUnknownEngine, "Requested signature type is not implemented")
}
