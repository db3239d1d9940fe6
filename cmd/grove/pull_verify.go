package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
)

// verifyHooks are the signature checks a remote's configuration asks of a
// pull (gpg-verify, gpg-verify-summary, sign-verify, sign-verify-summary),
// as pull.Options.Verify and remote.SourceOptions.VerifySummary take them.
type verifyHooks struct {
	commit  func(ctx context.Context, commit oid.Checksum, data, detached []byte) error
	summary func(ctx context.Context, summary, sig []byte) error
}

// errNoVerifier: signatures are present but this build cannot check them
// yet; a pull that must verify fails closed.
var errNoVerifier = errors.New("signature verification is not available in this build (set gpg-verify=false and sign-verify=false on the remote to pull unverified)")

func verifierFor(r *repo.Repo, rem *remote.Remote) (verifyHooks, error) {
	var h verifyHooks
	gpg, err := rem.GPGVerify()
	if err != nil {
		return h, err
	}
	gpgSummary, err := rem.Bool("gpg-verify-summary", false)
	if err != nil {
		return h, err
	}
	signV, _ := rem.Option("sign-verify")
	signVerify := signV != "" && signV != "false" && signV != "0"
	signS, _ := rem.Option("sign-verify-summary")
	signSummary := signS != "" && signS != "false" && signS != "0"
	if gpg || signVerify {
		h.commit = func(ctx context.Context, commit oid.Checksum, data, detached []byte) error {
			var meta []gvariant.DictEntry
			if detached != nil {
				if meta, err = object.UnmarshalMeta(detached); err != nil {
					return fmt.Errorf("Commit %s: %w", commit, err)
				}
			}
			if gpg {
				if _, ok := object.LookupMeta(meta, "ostree.gpgsigs"); !ok {
					return fmt.Errorf("Commit %s: GPG verification enabled, but no signatures found (use gpg-verify=false in remote config to disable)", commit)
				}
			}
			if signVerify && detached == nil {
				return errors.New("Can't verify commit without detached metadata")
			}
			return fmt.Errorf("Commit %s: %w", commit, errNoVerifier)
		}
	}
	if gpgSummary || signSummary {
		h.summary = func(ctx context.Context, summary, sig []byte) error {
			switch {
			case summary == nil && gpgSummary:
				return errors.New("GPG verification enabled, but no summary found (use gpg-verify-summary=false in remote config to disable)")
			case summary == nil:
				return errors.New("Signature verification enabled, but no summary found (check that the configured URL in remote config is correct)")
			case sig == nil && gpgSummary:
				return errors.New("GPG verification enabled, but no summary.sig found (use gpg-verify-summary=false in remote config to disable)")
			case sig == nil:
				return errors.New("Signature verification enabled, but no summary signatures found (use sign-verify-summary=false in remote config to disable)")
			}
			return errNoVerifier
		}
	}
	return h, nil
}
