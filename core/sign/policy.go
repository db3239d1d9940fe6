package sign

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
)

// RemoteOption looks up one option of a remote's configuration (its
// `[remote "NAME"]` group, wherever the caller found it).
type RemoteOption func(key string) (value string, ok bool)

// PolicyOptions locate the key stores a remote's configuration refers to.
type PolicyOptions struct {
	// Repo is the repository directory (for <remote>.trustedkeys.gpg).
	Repo string
	// RemotesDir, GlobalDir: see GPGKeyringOptions.
	RemotesDir, GlobalDir string
	// Ed25519Dirs replace DefaultEd25519Dirs for keys found without
	// configuration.
	Ed25519Dirs []string
	// NoGPG turns GPG verification off whatever the configuration says
	// (ostree does so for file:// remotes).
	NoGPG bool
}

// Policy is what a remote requires of the commits and summaries pulled
// from it. A nil verifier (or empty list) requires nothing.
type Policy struct {
	GPG         *GPGVerifier // gpg-verify (default true)
	SummaryGPG  *GPGVerifier // gpg-verify-summary (default false)
	Sign        []Verifier   // sign-verify
	SummarySign []Verifier   // sign-verify-summary
}

// PolicyForRemote reads a remote's verification options: gpg-verify,
// gpg-verify-summary, gpgkeypath, sign-verify, sign-verify-summary and
// verification-<engine>-key / -file, with ostree's defaults and errors.
func PolicyForRemote(remote string, opt RemoteOption, o PolicyOptions) (*Policy, error) {
	p := &Policy{}
	gpg, err := boolOption(opt, "gpg-verify", true)
	if err != nil {
		return nil, err
	}
	gpgSummary, err := boolOption(opt, "gpg-verify-summary", false)
	if err != nil {
		return nil, err
	}
	if (gpg || gpgSummary) && !o.NoGPG {
		paths, _ := opt("gpgkeypath")
		k, err := LoadGPGKeyring(GPGKeyringOptions{
			Repo: o.Repo, Remote: remote, KeyPaths: ParseKeyPaths(paths),
			RemotesDir: o.RemotesDir, GlobalDir: o.GlobalDir,
		})
		if err != nil {
			return nil, err
		}
		v := NewGPGVerifier(k)
		if gpg {
			p.GPG = v
		}
		if gpgSummary {
			p.SummaryGPG = v
		}
	}
	if p.Sign, err = signVerifiers(opt, "sign-verify", o); err != nil {
		return nil, err
	}
	if p.SummarySign, err = signVerifiers(opt, "sign-verify-summary", o); err != nil {
		return nil, err
	}
	return p, nil
}

// boolOption parses a GKeyFile boolean.
func boolOption(opt RemoteOption, key string, def bool) (bool, error) {
	v, ok := opt(key)
	if !ok {
		return def, nil
	}
	if b, ok := gBool(v); ok {
		return b, nil
	}
	return false, fmt.Errorf("Key file contains key “%s” which has a value that cannot be interpreted.", key)
}

func gBool(v string) (bool, bool) {
	switch strings.TrimSpace(v) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// signVerifiers builds the signapi verifiers of sign-verify(-summary):
// a true value means every engine, with whatever keys are configured (the
// system's otherwise); a list names engines that must have keys.
func signVerifiers(opt RemoteOption, key string, o PolicyOptions) ([]Verifier, error) {
	raw, ok := opt(key)
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var engines []string
	required := false
	if b, ok := gBool(raw); ok {
		if !b {
			return nil, nil
		}
		// Every engine built in: ed25519, and ostree's test engine when
		// it is enabled.
		engines = []string{EngineEd25519}
		if dummyEnabled() == nil {
			engines = append(engines, EngineDummy)
		}
	} else {
		required = true
		for _, e := range strings.Split(raw, ";") {
			if e = strings.TrimSpace(e); e != "" {
				engines = append(engines, e)
			}
		}
	}
	var out []Verifier
	for _, name := range engines {
		v, err := NewEngineVerifier(name)
		if err != nil {
			return nil, err
		}
		if ev, ok := v.(*Ed25519Verifier); ok {
			ev.SystemDirs = o.Ed25519Dirs
		}
		file, hasFile := opt("verification-" + name + "-file")
		inline, hasKey := opt("verification-" + name + "-key")
		if !hasFile && !hasKey && required {
			return nil, oerr(ErrNoKeys, "No keys found for required signapi type %s", name)
		}
		if hasFile {
			if err := v.AddKeyFile(file, false); err != nil {
				return nil, oerr(ErrNoKeys, "Failed loading '%s' keys from '%s", name, file)
			}
		}
		if hasKey {
			if err := v.AddKey(inline); err != nil {
				return nil, oerr(ErrNoKeys, "Failed loading '%s' keys from inline `verification-key`", name)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// Verification is what a successful policy check found.
type Verification struct {
	GPG  *Result // the GPG signatures, when GPG was required
	Sign *Result // the signapi result that passed, when required
}

// Text is ostree_repo_signature_verify_commit_data's description: the
// GPG signatures with "GPG: " before each line, then the signapi message.
func (v *Verification) Text() string {
	var b strings.Builder
	if v.GPG != nil {
		for i := range v.GPG.Signatures {
			b.WriteString(v.GPG.Signatures[i].Describe("GPG: "))
		}
	}
	if v.Sign != nil {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(v.Sign.Message)
	}
	return b.String()
}

// VerifyCommit checks a commit about to be stored: its exact bytes and its
// detached metadata (nil when the server has none). Both GPG and signapi
// must pass when both are required. Errors are worded as ostree's pull
// words them.
func (p *Policy) VerifyCommit(ctx context.Context, commit oid.Checksum, data []byte, detached []gvariant.DictEntry) (*Verification, error) {
	out := &Verification{}
	if p.GPG != nil {
		res, err := VerifyData(ctx, p.GPG, data, detached)
		if err != nil {
			return nil, prefixErr(fmt.Sprintf("Commit %s: ", commit), err)
		}
		out.GPG = res
	}
	if len(p.Sign) > 0 {
		if detached == nil {
			return nil, oerr(ErrNoSignature, "Can't verify commit without detached metadata")
		}
		res, err := verifyAny(ctx, p.Sign, data, detached)
		if err != nil {
			return nil, prefixErr("Can't verify commit: ", err)
		}
		out.Sign = res
	}
	return out, nil
}

// VerifySummary checks a summary against its summary.sig (nil when the
// server has none).
func (p *Policy) VerifySummary(ctx context.Context, summary, sig []byte) (*Verification, error) {
	out := &Verification{}
	var meta []gvariant.DictEntry
	if sig != nil {
		var err error
		if meta, err = ParseMeta(sig); err != nil {
			return nil, fmt.Errorf("summary.sig: %w", err)
		}
	}
	if p.SummaryGPG != nil {
		if sig == nil {
			return nil, oerr(ErrNoSignature, "GPG verification enabled, but no summary.sig found (use gpg-verify-summary=false in remote config to disable)")
		}
		res, err := VerifyData(ctx, p.SummaryGPG, summary, meta)
		if err != nil {
			return nil, err
		}
		out.GPG = res
	}
	if len(p.SummarySign) > 0 {
		if sig == nil {
			return nil, oerr(ErrNoSignature, "Signature verification enabled, but no summary signatures found (use sign-verify-summary=false in remote config to disable)")
		}
		res, err := verifyAny(ctx, p.SummarySign, summary, meta)
		if err != nil {
			return nil, err
		}
		out.Sign = res
	}
	return out, nil
}

// verifyAny accepts the first verifier with a valid signature
// (_sign_verify_for_remote): verifiers without signatures of their engine
// are skipped; the first failure is reported.
func verifyAny(ctx context.Context, vs []Verifier, data []byte, meta []gvariant.DictEntry) (*Result, error) {
	var first error
	invalid, found := 0, false
	for _, v := range vs {
		sigs := Signatures(meta, MetadataKey(v.Engine()))
		if sigs == nil {
			continue
		}
		found = true
		res, err := v.Verify(ctx, data, sigs)
		if err == nil {
			return res, nil
		}
		if first == nil {
			first = err
		}
		invalid++
	}
	if !found {
		return nil, oerr(ErrNoSignature, "No signatures found")
	}
	if invalid > 1 {
		return nil, prefixErr(fmt.Sprintf("(%d other invalid signatures): ", invalid-1), first)
	}
	return nil, first
}

// prefixErr puts prefix before err's message, keeping what it wraps.
func prefixErr(prefix string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Msg: prefix + e.Msg}
	}
	return fmt.Errorf("%s%w", prefix, err)
}
