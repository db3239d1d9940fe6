package remote

import (
	"context"
	"errors"
	"fmt"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/keyring"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sign"
)

// Policy is the signature policy a remote's configuration asks for
// (gpg-verify, default true; gpg-verify-summary; gpgkeypath; sign-verify,
// sign-verify-summary and verification-<engine>-key/-file), with keys
// found where ostree finds them: <repo>/<remote>.trustedkeys.gpg (or the
// remotes.d directory's), the gpgkeypath, the global keyrings.
func Policy(r *repo.Repo, rem *Remote, w Where) (*sign.Policy, error) {
	return sign.PolicyForRemote(rem.Name, rem.Option, sign.PolicyOptions{
		Repo: r.Path(), RemotesDir: w.RemotesDir(),
		NoGPG: isFileName(rem.Name), // ostree does not verify a bare file:// URL
	})
}

// Verifiers are the checks a remote's policy asks of a pull, in the form
// pull.Options.Verify and SourceOptions.VerifySummary take them; nil when
// nothing is required.
type Verifiers struct {
	Commit  func(ctx context.Context, commit oid.Checksum, data, detached []byte) error
	Summary func(ctx context.Context, summary, sig []byte) error
}

// VerifiersFor turns a policy into pull hooks. report, when set, receives
// each successful verification (ostree prints GPG results on a
// terminal); it may be called from several goroutines at once.
func VerifiersFor(p *sign.Policy, report func(*sign.Verification)) Verifiers {
	var v Verifiers
	if p.GPG != nil || len(p.Sign) > 0 {
		v.Commit = func(ctx context.Context, commit oid.Checksum, data, detached []byte) error {
			var meta []gvariant.DictEntry
			if detached != nil {
				var err error
				if meta, err = sign.ParseMeta(detached); err != nil {
					return fmt.Errorf("Commit %s: %w", commit, err)
				}
			}
			res, err := p.VerifyCommit(ctx, commit, data, meta)
			if err != nil {
				return err
			}
			if report != nil {
				report(res)
			}
			return nil
		}
	}
	if p.SummaryGPG != nil || len(p.SummarySign) > 0 {
		v.Summary = func(ctx context.Context, summary, sig []byte) error {
			if summary == nil {
				if p.SummaryGPG != nil {
					return errors.New("GPG verification enabled, but no summary found (use gpg-verify-summary=false in remote config to disable)")
				}
				return errors.New("Signature verification enabled, but no summary found (use sign-verify-summary=false in remote config to disable)")
			}
			res, err := p.VerifySummary(ctx, summary, sig)
			if err != nil {
				return err
			}
			if report != nil {
				report(res)
			}
			return nil
		}
	}
	return v
}

// Keys lists the GPG keys that verify a remote's signatures (its own
// keyring and gpgkeypath), or with rem nil the global keyrings, for
// `remote list-gpg-keys`.
func Keys(r *repo.Repo, rem *Remote, w Where) (*keyring.Keyring, error) {
	if rem == nil {
		return sign.LoadGPGKeyring(sign.GPGKeyringOptions{})
	}
	paths, _ := rem.Option("gpgkeypath")
	return sign.LoadGPGKeyring(sign.GPGKeyringOptions{
		Repo: r.Path(), Remote: rem.Name, KeyPaths: sign.ParseKeyPaths(paths),
		RemotesDir: w.RemotesDir(), NoGlobal: true,
	})
}
