package admin

import (
	"context"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/sign"
	"github.com/groveos/grove/core/sysroot"
)

// StatusSignatures is the GPG verification `ostree admin status` prints
// under a deployment ("    GPG: …" lines), nil when it prints none. As in
// libostree 2022.7: only when the origin's remote has gpg-verify (default
// true), only for a signed commit, and checked with the keyring of the
// remote named like the stateroot (libostree passes the stateroot where a
// remote name belongs); a missing remote or signature prints nothing.
func StatusSignatures(ctx context.Context, s *sysroot.Sysroot, d *sysroot.Deployment) (*sign.Result, error) {
	name, _, err := oid.ParseRefspec(d.Refspec())
	if err != nil || name == "" {
		return nil, nil
	}
	w := remote.Where{SysrootDir: s.RemotesRoot()}
	rem, err := remote.Get(s.Repo(), w, name)
	if err != nil {
		return nil, nil // gpg-verify of an unknown remote: false
	}
	if verify, err := rem.GPGVerify(); err != nil || !verify {
		return nil, nil
	}
	commit, err := d.Commit()
	if err != nil {
		return nil, nil
	}
	data, meta, err := sign.CommitData(ctx, s.Repo(), commit)
	if err != nil {
		return nil, nil
	}
	sigs := sign.Signatures(meta, sign.MetadataKey(sign.EngineGPG))
	if len(sigs) == 0 {
		return nil, nil
	}
	srem, err := remote.Get(s.Repo(), w, d.Stateroot)
	if err != nil {
		return nil, nil // libostree's "Remote not found" is a not-found: nothing printed
	}
	paths, _ := srem.Option("gpgkeypath")
	k, err := sign.LoadGPGKeyring(sign.GPGKeyringOptions{
		Repo: s.Repo().Path(), Remote: srem.Name, KeyPaths: sign.ParseKeyPaths(paths), RemotesDir: w.RemotesDir(),
	})
	if err != nil {
		return nil, err
	}
	return sign.NewGPGVerifier(k).Verify(ctx, data, sigs)
}
