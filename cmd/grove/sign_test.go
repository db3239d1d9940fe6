package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/sign"
)

// signRepo is an archive repository made by ostree with one commit per
// branch name given.
func signRepo(t *testing.T, branches ...string) string {
	t.Helper()
	src := t.TempDir()
	repotest.WriteFile(t, src+"/etc/os-release", "ID=test\n", 0o644)
	p := t.TempDir() + "/repo"
	repotest.Ostree(t, "init", "--repo="+p, "--mode=archive")
	for i, b := range branches {
		repotest.Ostree(t, "commit", "--repo="+p, "-b", b, "-s", b, fmt.Sprintf("--timestamp=2021-03-%02dT05:06:07Z", i+1), "--tree=dir="+src)
	}
	return p
}

// TestGPGSignedByGroveVerifiedByOstree signs with a GnuPG 2.2 home (secret
// key behind gpg-agent) and with an exported secret key, and has ostree
// verify both; `show` prints what ostree prints.
func TestGPGSignedByGroveVerifiedByOstree(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	key := repotest.NewGPGKey(t, "Grove Signer", "grove@example.com", "RSA")
	p := signRepo(t, "main", "exported")
	kd := key.KeyringDir(t)

	grove(t, "--repo="+p, "gpg-sign", "main", key.KeyID, "--gpg-homedir="+key.Home)
	out := repotest.Ostree(t, "--repo="+p, "show", "main", "--gpg-homedir="+kd)
	if !strings.Contains(out, "using RSA key ID "+key.KeyID+"\n  Good signature from \"Grove Signer <grove@example.com>\"") {
		t.Fatalf("ostree does not accept grove's signature:\n%s", out)
	}
	inspCompare(t, p, false, "show", "main", "--gpg-homedir="+kd)
	// ostree cannot read the GnuPG home's pubring.kbx; grove can.
	if out := repotest.Ostree(t, "--repo="+p, "show", "main", "--gpg-homedir="+key.Home); !strings.Contains(out, "public key not found") {
		t.Fatalf("ostree reads pubring.kbx now?\n%s", out)
	}
	if out := grove(t, "--repo="+p, "show", "main", "--gpg-homedir="+key.Home, "--gpg-verify"); !strings.Contains(out, "Good signature") {
		t.Fatalf("grove with the kbx home:\n%s", out)
	}

	// Signing again with the same key is refused, as ostree refuses it.
	_, errOut, err := groveErr(t, "--repo="+p, "gpg-sign", "main", key.Fingerprint, "--gpg-homedir="+key.Home)
	if err == nil || !strings.Contains(errOut, "error: Commit is already signed with GPG key "+key.Fingerprint) {
		t.Fatalf("second signature: %v %s", err, errOut)
	}

	// An exported secret key file signs in-process.
	secret := filepath.Join(t.TempDir(), "secret.gpg")
	exportSecret(t, key, secret)
	grove(t, "--repo="+p, "gpg-sign", "exported", "grove@example.com", "--gpg-homedir="+secret)
	inspCompare(t, p, false, "show", "exported", "--gpg-homedir="+kd)
	if out := repotest.Ostree(t, "--repo="+p, "show", "exported", "--gpg-homedir="+kd); !strings.Contains(out, "Good signature") {
		t.Fatalf("ostree on an in-process signature:\n%s", out)
	}

	// --delete removes it; ostree then finds no signature.
	if out := grove(t, "--repo="+p, "gpg-sign", "--delete", "main", key.KeyID, "--gpg-homedir="+kd); out != "Signatures deleted: 1\n" {
		t.Fatalf("delete: %q", out)
	}
	if out := repotest.Ostree(t, "--repo="+p, "show", "main", "--gpg-homedir="+kd); strings.Contains(out, "Signature made") {
		t.Fatalf("signature still there:\n%s", out)
	}
	inspCompare(t, p, false, "show", "main", "--gpg-homedir="+kd)
	repotest.Ostree(t, "--repo="+p, "fsck")
}

func exportSecret(t *testing.T, key *repotest.GPGKey, to string) {
	t.Helper()
	cmd := execGPG(key.Home, "--export-secret-keys", key.Fingerprint)
	data, err := cmd.Output()
	if err != nil || len(data) == 0 {
		t.Fatalf("export secret key: %v", err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestGPGSignedByOstreeVerifiedByGrove: ostree signs (gpg-sign and commit
// --gpg-sign), grove verifies with every kind of keyring.
func TestGPGSignedByOstreeVerifiedByGrove(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	key := repotest.NewGPGKey(t, "Ostree Signer", "ostree@example.com", "EDDSA")
	p := signRepo(t, "main")
	kd := key.KeyringDir(t)
	repotest.Ostree(t, "--repo="+p, "gpg-sign", "main", key.KeyID, "--gpg-homedir="+key.Home)
	src := t.TempDir()
	repotest.WriteFile(t, src+"/f", "x\n", 0o644)
	repotest.Ostree(t, "--repo="+p, "commit", "-b", "second", "--tree=dir="+src, "--gpg-sign="+key.KeyID, "--gpg-homedir="+key.Home)
	for _, b := range []string{"main", "second"} {
		inspCompare(t, p, false, "show", b, "--gpg-homedir="+kd)
		inspCompare(t, p, false, "show", b) // no keys: public key not found
		for _, home := range []string{kd, key.Home} {
			if out := grove(t, "--repo="+p, "show", b, "--gpg-verify", "--gpg-homedir="+home); !strings.Contains(out, "using EdDSA key ID "+key.KeyID+"\n  Good signature from \"Ostree Signer <ostree@example.com>\"") {
				t.Fatalf("%s with %s:\n%s", b, home, out)
			}
		}
	}
	// An armored export in a gpgkeypath and a remote keyring imported by
	// ostree itself.
	repotest.Ostree(t, "--repo="+p, "remote", "add", "--gpg-import="+key.Armored, "origin", "http://example.invalid/")
	inspCompare(t, p, false, "show", "main") // every remote keyring: Good
	inspCompare(t, p, false, "show", "main", "--gpg-verify-remote=origin")
	inspCompare(t, p, false, "show", "main", "--gpg-verify-remote=nosuch")
	repotest.Ostree(t, "--repo="+p, "remote", "add", "--no-gpg-verify", "--set=gpgkeypath="+key.Armored, "other", "http://example.invalid/")
	inspCompare(t, p, false, "show", "main", "--gpg-verify-remote=other")
	// Without a key, --gpg-verify fails with ostree's wording.
	_, errOut, err := groveErr(t, "--repo="+p, "show", "main", "--gpg-verify", "--gpg-verify-remote=nosuch")
	if err == nil || !strings.Contains(errOut, `Remote "nosuch" not found`) {
		t.Fatalf("%v %s", err, errOut)
	}
}

// fixedSigner signs as a go-crypto entity at a given time.
type fixedSigner struct {
	e       *openpgp.Entity
	at      time.Time
	life    uint32
	corrupt bool
}

func (f fixedSigner) Engine() string { return sign.EngineGPG }

func (f fixedSigner) Sign(ctx context.Context, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	noSalt := false
	cfg := &packet.Config{Time: func() time.Time { return f.at }, SigLifetimeSecs: f.life, NonDeterministicSignaturesViaNotation: &noSalt}
	if err := openpgp.DetachSign(&buf, f.e, bytes.NewReader(data), cfg); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if f.corrupt {
		b[len(b)-3] ^= 0x40
	}
	return b, nil
}

func entityAt(t *testing.T, name string, created time.Time, life time.Duration, algo packet.PublicKeyAlgorithm) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", strings.ToLower(name)+"@example.com", &packet.Config{
		Algorithm: algo, RSABits: 2048, KeyLifetimeSecs: uint32(life / time.Second),
		Time: func() time.Time { return created },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestGPGShowMatchesOstreeForEveryKeyState has ostree and grove describe
// the same signatures byte for byte: good (EdDSA and RSA), by a subkey, by
// an expired key, an expired signature, by a revoked key, by an unknown
// key, and several on one commit. Corrupted signature bytes are BAD on
// both sides; there gpg reports neither time nor algorithm (ostree prints
// 1970 and "[unknown name]") and stops at the first bad signature, where
// grove describes the signature and goes on to the next.
func TestGPGShowMatchesOstreeForEveryKeyState(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	repotest.NeedGPG(t) // ostree's gpgme runs gpg
	ctx := context.Background()
	now := time.Now()
	past := now.Add(-72 * time.Hour).Truncate(time.Second)

	good := entityAt(t, "Good", past, 0, packet.PubKeyAlgoEdDSA)
	rsa := entityAt(t, "Rsa", past, 0, packet.PubKeyAlgoRSA)
	expired := entityAt(t, "Expired", past, 24*time.Hour, packet.PubKeyAlgoEdDSA)
	revoked := entityAt(t, "Revoked", past, 0, packet.PubKeyAlgoEdDSA)
	unknown := entityAt(t, "Unknown", past, 0, packet.PubKeyAlgoEdDSA)
	sub := entityAt(t, "Sub", past, 0, packet.PubKeyAlgoEdDSA)
	if err := sub.AddSigningSubkey(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return past }, KeyLifetimeSecs: 400 * 86400}); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]sign.Signer{
		"good":        {fixedSigner{e: good, at: past.Add(time.Hour)}},
		"rsa":         {fixedSigner{e: rsa, at: past.Add(time.Hour)}},
		"subkey":      {fixedSigner{e: sub, at: past.Add(time.Hour)}},
		"expiredkey":  {fixedSigner{e: expired, at: past.Add(time.Hour)}},
		"expiredsig":  {fixedSigner{e: good, at: past.Add(time.Hour), life: 3600}},
		"revoked":     {fixedSigner{e: revoked, at: past.Add(time.Hour)}},
		"unknown":     {fixedSigner{e: unknown, at: past.Add(time.Hour)}},
		"corrupt":     {fixedSigner{e: good, at: past.Add(time.Hour), corrupt: true}},
		"several":     {fixedSigner{e: unknown, at: past.Add(time.Hour)}, fixedSigner{e: good, at: past.Add(2 * time.Hour)}},
		"severalbad":  {fixedSigner{e: good, at: past.Add(time.Hour)}, fixedSigner{e: expired, at: past.Add(2 * time.Hour)}},
		"expiredlast": {fixedSigner{e: good, at: past.Add(time.Hour), corrupt: true}, fixedSigner{e: expired, at: past.Add(2 * time.Hour)}},
	}
	var names []string
	for n := range cases {
		names = append(names, n)
	}
	p := signRepo(t, names...)
	r, err := repo.Open(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for n, signers := range cases {
		sum, err := r.ResolveRev(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if err := sign.SignCommit(ctx, r, sum, signers...); err != nil {
			t.Fatal(err)
		}
	}
	if err := revoked.RevokeKey(packet.KeyCompromised, "lost", &packet.Config{Time: func() time.Time { return past.Add(2 * time.Hour) }}); err != nil {
		t.Fatal(err)
	}
	kd := t.TempDir()
	var ring bytes.Buffer
	for _, e := range []*openpgp.Entity{good, rsa, expired, revoked, sub} {
		if err := e.Serialize(&ring); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(kd, "trusted.gpg"), ring.Bytes(), 0o644)
	for _, n := range names {
		if strings.Contains(n, "corrupt") || n == "expiredlast" {
			const bad = "  BAD signature from \"Good <good@example.com>\"\n"
			o := repotest.Ostree(t, "--repo="+p, "show", n, "--gpg-homedir="+kd)
			g := grove(t, "--repo="+p, "show", n, "--gpg-homedir="+kd)
			if !strings.Contains(o+"\n", bad) || !strings.Contains(g, bad) {
				t.Errorf("%s: ostree:\n%s\ngrove:\n%s", n, o, g)
			}
		} else {
			inspCompare(t, p, false, "show", n, "--gpg-homedir="+kd)
		}
		// --gpg-verify fails exactly when no signature is valid.
		out, errOut, err := groveErr(t, "--repo="+p, "show", n, "--gpg-verify", "--gpg-homedir="+kd)
		valid := strings.Contains(out, "Good signature")
		if (err == nil) != valid {
			t.Errorf("%s: --gpg-verify exit %v with output\n%s%s", n, err, out, errOut)
		}
		if err != nil && !strings.HasPrefix(errOut, "error: Commit ") {
			t.Errorf("%s: %s", n, errOut)
		}
	}
}

func execGPG(home string, args ...string) *exec.Cmd {
	return exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--no-tty"}, args...)...)
}

// TestGPGSummaryAndPullInterop: ostree pulls, with gpg-verify and
// gpg-verify-summary on, a commit and a summary that grove signed; grove
// verifies a summary that ostree signed, through a remote's policy.
func TestGPGSummaryAndPullInterop(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	ctx := context.Background()
	key := repotest.NewGPGKey(t, "Publisher", "pub@example.com", "EDDSA")
	src := signRepo(t, "main")
	grove(t, "--repo="+src, "gpg-sign", "main", key.KeyID, "--gpg-homedir="+key.Home)
	repotest.Ostree(t, "--repo="+src, "summary", "-u")
	summary, err := os.ReadFile(src + "/summary")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sign.NewGPGSigner(ctx, key.KeyID, key.Home)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := sign.SignSummary(ctx, summary, nil, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src+"/summary.sig", sig, 0o644); err != nil {
		t.Fatal(err)
	}

	pull := func(keyring string) (string, error) {
		dst := t.TempDir() + "/dst"
		repotest.Ostree(t, "--repo="+dst, "init", "--mode=bare-user")
		repotest.Ostree(t, "--repo="+dst, "remote", "add", "--set=gpg-verify=true", "--set=gpg-verify-summary=true",
			"--gpg-import="+keyring, "origin", "file://"+src)
		out, err := repotest.OstreeErr(t, "--repo="+dst, "pull", "origin", "main")
		if err == nil {
			repotest.Ostree(t, "--repo="+dst, "fsck")
		}
		return out, err
	}
	if out, err := pull(key.PublicKeyring); err != nil {
		t.Fatalf("ostree pull of grove-signed summary and commit: %v\n%s", err, out)
	}
	// With another key trusted ostree refuses, so the check above is real.
	other := repotest.NewGPGKey(t, "Other", "other@example.com", "EDDSA")
	if out, err := pull(other.PublicKeyring); err == nil || !strings.Contains(out, "public key not found") {
		t.Fatalf("pull with the wrong key: %v\n%s", err, out)
	}

	// ostree signs the summary; grove's remote policy verifies it.
	repotest.Ostree(t, "--repo="+src, "summary", "-u", "--gpg-sign="+key.KeyID, "--gpg-homedir="+key.Home)
	summary, _ = os.ReadFile(src + "/summary")
	sig, _ = os.ReadFile(src + "/summary.sig")
	dst := t.TempDir()
	data, _ := os.ReadFile(key.PublicKeyring)
	os.WriteFile(filepath.Join(dst, sign.RemoteKeyringName("origin")), data, 0o644)
	opts := map[string]string{"gpg-verify-summary": "true"}
	pol, err := sign.PolicyForRemote("origin", func(k string) (string, bool) { v, ok := opts[k]; return v, ok },
		sign.PolicyOptions{Repo: dst, GlobalDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := pol.VerifySummary(ctx, summary, sig)
	if err != nil || v.GPG.Valid() != 1 {
		t.Fatalf("ostree-signed summary: %v", err)
	}
	if _, err := pol.VerifySummary(ctx, append(summary, 0), sig); err == nil || !strings.Contains(err.Error(), "BAD signature") {
		t.Fatalf("altered summary: %v", err)
	}
	if _, err := pol.VerifySummary(ctx, summary, nil); err == nil || !strings.Contains(err.Error(), "no summary.sig found") {
		t.Fatalf("missing summary.sig: %v", err)
	}
	// And the commit ostree pulled verifies through the same policy.
	r, _ := repo.Open(ctx, src)
	sum, _ := r.ResolveRev(ctx, "main")
	commit, meta, err := sign.CommitData(ctx, r, sum)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pol.VerifyCommit(ctx, sum, commit, meta); err != nil {
		t.Fatal(err)
	}
	if _, err := pol.VerifyCommit(ctx, sum, commit, nil); err == nil || err.Error() != "Commit "+sum.String()+": GPG verification enabled, but no signatures found (use gpg-verify=false in remote config to disable)" {
		t.Fatalf("unsigned commit: %v", err)
	}
}

func ed25519Pair(t *testing.T) (secret, public string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(priv), base64.StdEncoding.EncodeToString(pub)
}

// TestEd25519SignCLI: sign, sign --verify (each key, --keys-file,
// --keys-dir with revoked keys), sign --delete and commit --sign, grove
// against grove (Debian's ostree has no ed25519), with ostree reading the
// detached metadata and fsck-ing the repository.
func TestEd25519SignCLI(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	p := signRepo(t, "main")
	sec, pub := ed25519Pair(t)
	sec2, pub2 := ed25519Pair(t)
	_, stranger := ed25519Pair(t)
	grove(t, "--repo="+p, "sign", "main", sec)
	pb, _ := base64.StdEncoding.DecodeString(pub)
	ok := "ed25519: Signature verified successfully with key '" + hex.EncodeToString(pb) + "'\n"
	if out := grove(t, "--repo="+p, "sign", "--verify", "main", stranger, pub); out != ok {
		t.Fatalf("verify: %q", out)
	}
	_, errOut, err := groveErr(t, "--repo="+p, "sign", "--verify", "main", stranger)
	if err == nil || errOut != "error: No valid signatures found\n" {
		t.Fatalf("wrong key: %v %q", err, errOut)
	}
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	os.WriteFile(keys, []byte(stranger+"\n"+pub+"\n"), 0o644)
	if out := grove(t, "--repo="+p, "sign", "--verify", "main", "--keys-file="+keys); out != ok {
		t.Fatalf("keys file: %q", out)
	}
	os.WriteFile(keys, []byte(stranger+"\n"), 0o644)
	_, errOut, _ = groveErr(t, "--repo="+p, "sign", "--verify", "main", "--keys-file="+keys)
	sb, _ := base64.StdEncoding.DecodeString(stranger)
	if want := "error: ed25519: Signature couldn't be verified with: key '" + hex.EncodeToString(sb) + "'\n"; errOut != want {
		t.Fatalf("keys file, wrong key: %q want %q", errOut, want)
	}
	// A keys dir laid out as /etc/ostree, then the key revoked there.
	os.MkdirAll(filepath.Join(dir, "etc", "trusted.ed25519.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc", "trusted.ed25519.d", "vendor"), []byte(pub+"\n"), 0o644)
	if out := grove(t, "--repo="+p, "sign", "--verify", "main", "--keys-dir="+filepath.Join(dir, "etc")); out != ok {
		t.Fatalf("keys dir: %q", out)
	}
	os.WriteFile(filepath.Join(dir, "etc", "revoked.ed25519"), []byte(pub+"\n"), 0o644)
	_, errOut, err = groveErr(t, "--repo="+p, "sign", "--verify", "main", "--keys-dir="+filepath.Join(dir, "etc"))
	if err == nil || errOut != "error: ed25519: no signatures found\n" {
		t.Fatalf("revoked: %v %q", err, errOut)
	}
	_, errOut, _ = groveErr(t, "--repo="+p, "sign", "--verify", "main", "--keys-dir="+t.TempDir())
	if errOut != "error: signature: ed25519: no keys loaded\n" {
		t.Fatalf("empty keys dir: %q", errOut)
	}

	// Secret keys from a file; ostree sees two 64-byte signatures.
	os.WriteFile(keys, []byte(sec2+"\n"), 0o600)
	grove(t, "--repo="+p, "sign", "main", "--keys-file="+keys)
	meta := repotest.Ostree(t, "--repo="+p, "show", "main", "--print-detached-metadata-key=ostree.sign.ed25519")
	if n := strings.Count(meta, "], ["); n != 1 || strings.Count(meta, "0x") != 128 {
		t.Fatalf("detached metadata as ostree prints it: %s", meta)
	}
	if out := grove(t, "--repo="+p, "sign", "--delete", "main", pub2); out != "Signatures deleted: 1\n" {
		t.Fatalf("delete: %q", out)
	}
	if _, _, err := groveErr(t, "--repo="+p, "sign", "--verify", "main", pub2); err == nil {
		t.Fatal("deleted signature still verifies")
	}
	grove(t, "--repo="+p, "sign", "--verify", "main", pub)

	// commit --sign, and the errors.
	src := t.TempDir()
	repotest.WriteFile(t, src+"/f", "x\n", 0o644)
	grove(t, "--repo="+p, "commit", "-b", "signed", "--tree=dir="+src, "--sign="+sec, "--sign-type=ed25519")
	grove(t, "--repo="+p, "sign", "--verify", "signed", pub)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sign", "main", "--sign-type=spki", sec}, "error: Requested signature type is not implemented\n"},
		{[]string{"sign", "main", "bm90IGEga2V5"}, "error: Incorrect ed25519 secret key\n"},
		{[]string{"sign", "main"}, "error: Need at least one KEY-ID to sign with\n"},
		{[]string{"sign"}, "error: Need a COMMIT to sign or verify\n"},
		{[]string{"commit", "-b", "bad", "--tree=dir=" + src, "--sign=bm90IGEga2V5"}, "error: Incorrect ed25519 secret key\n"},
	} {
		_, errOut, err := groveErr(t, append([]string{"--repo=" + p}, c.args...)...)
		if err == nil || inspLastLine(errOut)+"\n" != c.want {
			t.Errorf("%v: %v %q, want %q", c.args, err, errOut, c.want)
		}
	}
	if _, err := os.Stat(p + "/refs/heads/bad"); err == nil {
		t.Fatal("a commit with a bad key moved its ref")
	}
	repotest.Ostree(t, "--repo="+p, "fsck")
}

// TestGPGSignCLIErrors: ostree's usage errors and key lookup failures.
func TestGPGSignCLIErrors(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	p := signRepo(t, "main")
	home := t.TempDir()
	os.WriteFile(home+"/secring.gpg", nil, 0o600)
	for _, args := range [][]string{
		{"gpg-sign"}, {"gpg-sign", "main"},
		{"gpg-sign", "main", "0123456789ABCDEF", "--gpg-homedir=" + home},
		{"gpg-sign", "nosuch", "0123456789ABCDEF"},
		{"gpg-sign", "--delete", "main", "0123456789ABCDEF"},
	} {
		inspCompare(t, p, false, args...)
	}
	src := t.TempDir()
	repotest.WriteFile(t, src+"/f", "x\n", 0o644)
	inspCompare(t, p, false, "commit", "-b", "x", "--tree=dir="+src, "--gpg-sign=0123456789ABCDEF", "--gpg-homedir="+home)
	if _, err := os.Stat(p + "/refs/heads/x"); err == nil {
		t.Fatal("a commit with a bad key moved its ref")
	}
}

// TestSignapiInteropWithDummyEngine checks the signapi formats that
// ed25519 shares (ostree.sign.<engine> in detached metadata and in
// summary.sig, the OSTSGNDT superblock wrapper) against the real ostree,
// using its test engine "dummy" (Debian's ostree has no ed25519): each
// side verifies what the other signed, and ostree pulls with sign-verify
// and sign-verify-summary from a repository grove signed.
func TestSignapiInteropWithDummyEngine(t *testing.T) {
	repotest.NeedOstree(t)
	t.Setenv("OSTREE_DUMMY_SIGN_ENABLED", "1")
	ctx := context.Background()
	p := signRepo(t, "main", "next", "ostree")

	// Commits.
	repotest.Ostree(t, "--repo="+p, "sign", "--sign-type=dummy", "ostree", "okey")
	if out := grove(t, "--repo="+p, "sign", "--verify", "--sign-type=dummy", "ostree", "okey"); out != "dummy: Signature verified\n" {
		t.Fatalf("grove on ostree's signature: %q", out)
	}
	grove(t, "--repo="+p, "sign", "--sign-type=dummy", "main", "gkey")
	grove(t, "--repo="+p, "sign", "--sign-type=dummy", "next", "gkey")
	if out := repotest.Ostree(t, "--repo="+p, "sign", "--verify", "--sign-type=dummy", "main", "gkey"); out != "dummy: Signature verified" {
		t.Fatalf("ostree on grove's signature: %q", out)
	}
	if _, err := repotest.OstreeErr(t, "--repo="+p, "sign", "--verify", "--sign-type=dummy", "main", "other"); err == nil {
		t.Fatal("ostree accepts the wrong key")
	}
	_, errOut, err := groveErr(t, "--repo="+p, "sign", "--verify", "--sign-type=dummy", "ostree", "other")
	if err == nil || errOut != "error: No valid signatures found\n" {
		t.Fatalf("grove with the wrong key: %v %q", err, errOut)
	}

	// Summary: ostree signs, grove verifies; grove signs, ostree pulls.
	repotest.Ostree(t, "--repo="+p, "summary", "-u", "--sign-type=dummy", "--sign=skey")
	summary, _ := os.ReadFile(p + "/summary")
	sig, _ := os.ReadFile(p + "/summary.sig")
	dv, _ := sign.NewEngineVerifier(sign.EngineDummy)
	dv.AddKey("skey")
	if _, err := sign.VerifySummary(ctx, dv, summary, sig); err != nil {
		t.Fatalf("ostree-signed summary: %v", err)
	}
	s, _ := sign.NewEngineSigner(sign.EngineDummy, "gkey")
	if sig, err = sign.SignSummary(ctx, summary, nil, s); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p+"/summary.sig", sig, 0o644)
	pull := func(key, summary string, refs ...string) (string, error) {
		dst := t.TempDir() + "/dst"
		repotest.Ostree(t, "--repo="+dst, "init", "--mode=archive")
		repotest.Ostree(t, "--repo="+dst, "remote", "add", "--no-gpg-verify", "--set=sign-verify=dummy",
			"--set=sign-verify-summary="+summary, "--set=verification-dummy-key="+key, "origin", "file://"+p)
		return repotest.OstreeErr(t, append([]string{"--repo=" + dst, "pull", "origin"}, refs...)...)
	}
	if out, err := pull("gkey", "dummy", "main", "next"); err != nil {
		t.Fatalf("ostree pull with sign-verify: %v\n%s", err, out)
	}
	if out, err := pull("other", "dummy", "main"); err == nil || !strings.Contains(out, "signature: dummy: incorrect signatures found") {
		t.Fatalf("ostree pull with the wrong key: %v\n%s", err, out)
	}
	// Commit signatures alone: the commit ostree signed with another key
	// is refused.
	if out, err := pull("gkey", "false", "ostree"); err == nil || !strings.Contains(out, "Can't verify commit") {
		t.Fatalf("ostree pull of a commit signed with another key: %v\n%s", err, out)
	}

	// Deltas: ostree signs a superblock, grove verifies it; grove signs
	// one, ostree verifies it and reports it signed.
	repotest.Ostree(t, "--repo="+p, "static-delta", "generate", "--from=main", "--to=next", "--sign-type=dummy", "--sign=dkey")
	repotest.Ostree(t, "--repo="+p, "static-delta", "generate", "--from=next", "--to=ostree")
	var ostreeSigned, unsigned string
	filepath.Walk(p+"/deltas", func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "superblock" {
			b, _ := os.ReadFile(path)
			if sign.IsSignedSuperblock(b) {
				ostreeSigned = path
			} else {
				unsigned = path
			}
		}
		return nil
	})
	if ostreeSigned == "" || unsigned == "" {
		t.Fatal("ostree made no deltas")
	}
	b, _ := os.ReadFile(ostreeSigned)
	dv.AddKey("dkey")
	if _, _, err := sign.VerifySuperblock(ctx, dv, b); err != nil {
		t.Fatalf("ostree-signed superblock: %v", err)
	}
	if got := sign.SuperblockEngines(b); len(got) != 1 || got[0] != "dummy" {
		t.Fatalf("engines: %v", got)
	}
	b, _ = os.ReadFile(unsigned)
	s, _ = sign.NewEngineSigner(sign.EngineDummy, "gkey")
	signed, err := sign.SignSuperblock(ctx, b, s)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(unsigned, signed, 0o644)
	var name string
	for _, l := range strings.Split(repotest.Ostree(t, "--repo="+p, "static-delta", "list"), "\n") {
		if strings.HasSuffix(l, repotest.Ostree(t, "--repo="+p, "rev-parse", "ostree")) {
			name = l
		}
	}
	if out := repotest.Ostree(t, "--repo="+p, "static-delta", "verify", "--sign-type=dummy", name, "gkey"); out != "Verification OK" {
		t.Fatalf("ostree on grove's superblock: %q", out)
	}
	if out := repotest.Ostree(t, "--repo="+p, "static-delta", "show", name); !strings.Contains(out, "Signed: yes") {
		t.Fatalf("static-delta show:\n%s", out)
	}
	if _, err := repotest.OstreeErr(t, "--repo="+p, "static-delta", "verify", "--sign-type=dummy", name, "other"); err == nil {
		t.Fatal("ostree accepts grove's superblock with the wrong key")
	}
}
