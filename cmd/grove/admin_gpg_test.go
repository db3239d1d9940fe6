package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/sign"
	"github.com/groveos/grove/core/sysroot/sysroottest"
)

// A signed commit deployed from a gpg-verify remote: status prints the
// "GPG:" lines as ostree does (verified with the keyring of the remote
// named like the stateroot, as libostree 2022.7 does).
func TestAdminStatusGPGLines(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	ctx := context.Background()
	e, err := openpgp.NewEntity("Grove Test", "", "grove-test@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var sec, pub bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&sec, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(p.dir, "secret.gpg")
	os.WriteFile(secret, sec.Bytes(), 0o600)

	dir := filepath.Join(p.dir, "trees", "signed")
	if err := (sysroottest.Tree{}).Write(dir); err != nil {
		t.Fatal(err)
	}
	sum := strings.TrimSpace(grove(t, "--repo="+p.src, "commit", "-b", testRef, "-s", "Build", "--add-metadata-string=version=7", "--timestamp=@1700000000", dir))
	r, err := repo.Open(ctx, p.src)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := sign.NewGPGSigner(ctx, strings.ToUpper(string(e.PrimaryKey.KeyIdString())), secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.SignCommit(ctx, r, oid.MustParse(sum), signer); err != nil {
		t.Fatal(err)
	}
	for _, sr := range []string{p.grove, p.ost} {
		srepo := sr + "/ostree/repo"
		repotest.Ostree(t, "--repo="+srepo, "remote", "add", "testos", "file://"+p.src)
		repotest.Ostree(t, "--repo="+srepo, "pull-local", "--remote=testos", p.src, testRef)
		if err := os.WriteFile(filepath.Join(srepo, "testos.trustedkeys.gpg"), pub.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.both("deploy", "--os=testos", "testos:"+testRef)
	p.same()
	out := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "status")
	if !strings.Contains(out, "    GPG: Good signature from \"Grove Test <grove-test@example.com>\"\n") {
		t.Fatalf("status:\n%s", out)
	}
}
