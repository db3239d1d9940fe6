package admin

import (
	"context"
	"path/filepath"

	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/sign"
	"github.com/groveos/grove/core/sysroot"
)

// remoteConfig finds a remote's group in the system repository's config
// or in the sysroot's etc/ostree/remotes.d/*.conf.
func remoteConfig(s *sysroot.Sysroot, name string) (*keyfile.File, bool) {
	group := `remote "` + name + `"`
	has := func(kf *keyfile.File) bool {
		for _, g := range kf.Groups() {
			if g == group {
				return true
			}
		}
		return false
	}
	if kf := s.Repo().Config(); has(kf) {
		return kf, true
	}
	confs, _ := filepath.Glob(s.Abs("etc/ostree/remotes.d/*.conf"))
	for _, c := range confs {
		if kf, err := readKeyFile(c); err == nil && has(kf) {
			return kf, true
		}
	}
	return nil, false
}

// StatusSignatures is the GPG verification `ostree admin status` prints
// under a deployment ("    GPG: …" lines), nil when it prints none. As in
// libostree 2022.7: only when the origin's remote has gpg-verify (default
// true), only for a signed commit, and checked with the keyring of the
// remote named like the stateroot (libostree passes the stateroot where a
// remote name belongs); a missing remote or signature prints nothing.
func StatusSignatures(ctx context.Context, s *sysroot.Sysroot, d *sysroot.Deployment) (*sign.Result, error) {
	remote, _, err := oid.ParseRefspec(d.Refspec())
	if err != nil || remote == "" {
		return nil, nil
	}
	kf, ok := remoteConfig(s, remote)
	if !ok {
		return nil, nil
	}
	if verify, err := kf.Bool(`remote "`+remote+`"`, "gpg-verify", true); err != nil || !verify {
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
	skf, ok := remoteConfig(s, d.Stateroot)
	if !ok {
		return nil, nil
	}
	k, err := sign.LoadGPGKeyring(sign.GPGKeyringOptions{
		Repo:       s.Repo().Path(),
		Remote:     d.Stateroot,
		KeyPaths:   skf.List(`remote "`+d.Stateroot+`"`, "gpgkeypath"),
		RemotesDir: s.Abs("etc/ostree/remotes.d"),
	})
	if err != nil {
		return nil, err
	}
	return sign.NewGPGVerifier(k).Verify(ctx, data, sigs)
}
