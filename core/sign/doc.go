// Package sign signs and verifies what OSTree signs: commits (the exact
// bytes of the .commit object, signatures in its detached metadata),
// summaries (the bytes of `summary`, signatures in `summary.sig`) and
// static-delta superblocks (the unsigned superblock, wrapped in the
// "OSTSGNDT" (taya{sv}) form). Signatures are stored exactly as ostree
// stores them, so that each side verifies the other's:
//
//	ostree.gpgsigs       aay  binary OpenPGP detached signatures
//	ostree.sign.ed25519  aay  raw 64-byte Ed25519 signatures
//
// # Engines
//
// Two engines sit behind one Signer/Verifier pair of interfaces:
//
//   - ed25519, with the standard library's crypto/ed25519: public keys are
//     32 bytes and secret keys 64 (seed ‖ public), both base64 as ostree
//     passes them; key files hold one base64 key per line; trusted and
//     revoked keys come from trusted.ed25519(.d) and revoked.ed25519(.d)
//     under /etc/ostree and /usr/share/ostree, or under the directories the
//     caller names (tests never touch /etc). ostree 2022.7 as Debian builds
//     it has no ed25519 ("Requested signature type is not implemented"), so
//     this engine interoperates with ostree builds that have libsodium.
//   - GPG, with ProtonMail/go-crypto: detached binary signatures verified
//     against keyrings found where ostree finds them (LoadGPGKeyring):
//     <repo>/<remote>.trustedkeys.gpg, the remote's gpgkeypath,
//     $OSTREE_GPG_HOME or /usr/share/ostree/trusted.gpg.d, every *.gpg of a
//     --gpg-homedir. Keyrings are read by package keyring, which also reads
//     armored exports and GnuPG 2.1's pubring.kbx keybox: a --gpg-homedir
//     made by any current gpg keeps its public keys in pubring.kbx, which
//     ostree 2022.7 cannot read ("public key not found"); grove can.
//
// # Signing with GPG: where the secret key comes from
//
// go-crypto signs when it can read the secret key: a GnuPG 1.x secring.gpg
// in the home directory, or an exported secret key given as the "home"
// (a file instead of a directory), without a passphrase. GnuPG 2.1 and
// later keep secret keys in private-keys-v1.d in gpg-agent's own format,
// reachable only through gpg-agent (which also holds passphrases and
// smartcards). Re-implementing that protocol would be fragile, so for
// those keys grove runs the gpg binary with the given home directory to
// make the signature (`gpg --batch --detach-sign --local-user FPR`), as
// ostree itself does through gpgme. The signature is then stored, checked
// and verified by go-crypto like any other.
//
// # Results in ostree's shape
//
// Verification yields a Result per engine: for GPG one Signature per
// signature with ostree's attributes (valid, expired, revoked, key
// missing, fingerprints, times, user), rendered by Signature.Describe
// exactly as ostree_gpg_verify_result_describe prints them ("Signature
// made … using RSA key ID …", "Good signature from …"). Failures are
// *Error values carrying ostree's wording and wrapping a sentinel
// (ErrNoSignature, ErrMissingKey, ErrInvalidSignature, …).
//
// # Where grove differs from ostree 2022.7, on purpose
//
//   - A --gpg-homedir's pubring.kbx is read (ostree: "public key not found").
//   - A corrupted GPG signature is BAD and verification goes on to the next
//     signature; gpg (hence ostree) stops at the first bad one and reports
//     neither its time nor its algorithm.
//   - `gpg-sign --delete` removes every signature of a named key (ostree the
//     first one); `sign --delete` works (ostree 2022.7 ignores the flag).
//   - Signing refuses a GPG key that already signed by the signature's
//     issuer key ID, without needing the public key in a keyring (ostree
//     re-signs when it cannot read the home's keyring, e.g. a kbx home).
//   - A parent repository's remote keyrings are not searched.
//
// The test engine "dummy" (signature = key string) exists, as in ostree,
// only with OSTREE_DUMMY_SIGN_ENABLED=1: it proves the signapi formats
// that ed25519 shares against Debian's ostree, which lacks ed25519.
//
// # What it must not do
//
// It never prints and never decides policy on its own: callers say which
// keyrings and keys to trust (Policy/PolicyForRemote turn a remote's
// configuration into verifiers). It writes only detached metadata (through
// a repo transaction) and remote keyrings (atomically); summary.sig and
// delta superblocks are returned as bytes for their owners to store.
package sign
