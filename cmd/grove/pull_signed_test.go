package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repotest"
)

// TestSignedPullFromOstree: ostree publishes a GPG-signed commit and
// summary; grove pulls it with gpg-verify and gpg-verify-summary on, the
// key imported by remote add --gpg-import. With another key trusted the
// pull fails and no ref moves. remote gpg-import, list-gpg-keys and
// remote summary print what ostree prints.
func TestSignedPullFromOstree(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	key := repotest.NewGPGKey(t, "Publisher", "pub@example.com", "EDDSA")
	other := repotest.NewGPGKey(t, "Other", "other@example.com", "EDDSA")
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	repotest.WriteFile(t, tree+"/etc/os-release", "NAME=Signed\n", 0o644)
	pub := filepath.Join(dir, "pub")
	repotest.Ostree(t, "--repo="+pub, "init", "--mode=archive")
	c := repotest.Ostree(t, "--repo="+pub, "commit", "-b", "main", "--tree=dir="+tree, "--timestamp=2024-01-01T00:00:00Z",
		"--gpg-sign="+key.KeyID, "--gpg-homedir="+key.Home)
	repotest.Ostree(t, "--repo="+pub, "summary", "-u", "--gpg-sign="+key.KeyID, "--gpg-homedir="+key.Home)
	url := groveServe(t, pub)

	// The same commands through both tools give the same output.
	twins := map[string]string{"ostree": dir + "/o", groveBin: dir + "/g"}
	for tool, p := range twins {
		inspMustRun(t, tool, "--repo="+p, "init", "--mode=bare-user")
	}
	for _, s := range [][]string{
		{"remote", "add", "--set=gpg-verify-summary=true", "--gpg-import=" + key.PublicKeyring, "origin", url},
		{"remote", "gpg-import", "--keyring=" + key.Armored, "origin"},
		{"remote", "gpg-import", "--keyring=" + other.PublicKeyring, "origin", "nosuchkey"},
		{"remote", "gpg-import", "--keyring=" + key.PublicKeyring, "nosuchremote"},
		{"remote", "gpg-list-keys", "origin"},
		{"remote", "gpg-list-keys", "nosuchremote"},
		{"remote", "summary", "origin"},
		{"remote", "summary", "--raw", "origin"},
		{"remote", "refs", "origin"},
	} {
		oOut, oErr, oCode := inspRun(t, "ostree", append([]string{"--repo=" + twins["ostree"]}, s...)...)
		gOut, gErr, gCode := inspRun(t, groveBin, append([]string{"--repo=" + twins[groveBin]}, s...)...)
		if oOut != gOut || (oCode == 0) != (gCode == 0) || (oCode != 0 && inspLastLine(oErr) != inspLastLine(gErr)) {
			t.Errorf("%v:\nostree %d\n%s%s\ngrove %d\n%s%s", s, oCode, oOut, oErr, gCode, gOut, gErr)
		}
	}
	dst := twins[groveBin]
	grove(t, "--repo="+dst, "pull", "origin", "main")
	if got := strings.TrimSpace(grove(t, "--repo="+dst, "rev-parse", "origin:main")); got != c {
		t.Fatalf("origin:main = %s, want %s", got, c)
	}
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")

	// Trusting another key: the summary's signature is refused first.
	bad := t.TempDir() + "/bad"
	grove(t, "--repo="+bad, "init", "--mode=bare-user")
	grove(t, "--repo="+bad, "remote", "add", "--set=gpg-verify-summary=true", "--gpg-import="+other.PublicKeyring, "origin", url)
	_, errOut, err := groveErr(t, "--repo="+bad, "pull", "origin", "main")
	if err == nil || !strings.Contains(errOut, "public key not found") {
		t.Errorf("pull trusting another key: %v %s", err, errOut)
	}
	// Without the summary check, the commit's signature is refused.
	grove(t, "--repo="+bad, "config", "set", `remote "origin".gpg-verify-summary`, "false")
	_, errOut, err = groveErr(t, "--repo="+bad, "pull", "origin", "main")
	if err == nil || !strings.Contains(errOut, "Commit "+c) || !strings.Contains(errOut, "public key not found") {
		t.Errorf("commit signed by an unknown key: %v %s", err, errOut)
	}
	if out := grove(t, "--repo="+bad, "refs"); out != "" {
		t.Errorf("refs after refused pulls: %q", out)
	}
	inspMustRun(t, "ostree", "--repo="+bad, "fsck")
}

// TestSignedPullByOstree: grove publishes (commit --gpg-sign, summary -u
// --gpg-sign) and serves; ostree pulls with gpg-verify and
// gpg-verify-summary and fsck is clean. An unsigned summary is refused.
func TestSignedPullByOstree(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	key := repotest.NewGPGKey(t, "Grove Publisher", "grove@example.com", "RSA")
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	repotest.RichTree(t, tree)
	pub := filepath.Join(dir, "pub")
	grove(t, "--repo="+pub, "init", "--mode=archive")
	grove(t, "--repo="+pub, "commit", "-b", "os/main", "--tree=dir="+tree, "--gpg-sign="+key.KeyID, "--gpg-homedir="+key.Home)
	grove(t, "--repo="+pub, "summary", "-u", "--gpg-sign="+key.KeyID, "--gpg-homedir="+key.Home)
	url := groveServe(t, pub)
	client := func() string {
		dst := t.TempDir() + "/dst"
		repotest.Ostree(t, "--repo="+dst, "init", "--mode=bare-user")
		repotest.Ostree(t, "--repo="+dst, "remote", "add", "--set=gpg-verify=true", "--set=gpg-verify-summary=true",
			"--gpg-import="+key.PublicKeyring, "origin", url)
		return dst
	}
	dst := client()
	if out, err := repotest.OstreeErr(t, "--repo="+dst, "pull", "origin", "os/main"); err != nil {
		t.Fatalf("ostree pull from grove serve: %v\n%s", err, out)
	}
	repotest.Ostree(t, "--repo="+dst, "fsck")
	// Republished without signing the summary: ostree refuses it.
	grove(t, "--repo="+pub, "summary", "-u")
	if out, err := repotest.OstreeErr(t, "--repo="+client(), "pull", "origin", "os/main"); err == nil || !strings.Contains(out, "summary.sig") {
		t.Fatalf("unsigned summary accepted: %v\n%s", err, out)
	}
	// And grove refuses it too, with ostree's words.
	g := t.TempDir() + "/grove"
	grove(t, "--repo="+g, "init", "--mode=bare-user")
	grove(t, "--repo="+g, "remote", "add", "--set=gpg-verify-summary=true", "--gpg-import="+key.PublicKeyring, "origin", url)
	_, errOut, err := groveErr(t, "--repo="+g, "pull", "origin", "os/main")
	if err == nil || !strings.Contains(errOut, "GPG verification enabled, but no summary.sig found (use gpg-verify-summary=false in remote config to disable)") {
		t.Fatalf("grove: unsigned summary: %v %s", err, errOut)
	}
	if out := grove(t, "--repo="+g, "refs"); out != "" {
		t.Errorf("refs after a refused pull: %q", out)
	}
}

// TestEd25519SignedPull: grove signs commit and summary with ed25519
// (which Debian's ostree lacks) and grove pulls them with sign-verify and
// sign-verify-summary; the wrong key is refused.
func TestEd25519SignedPull(t *testing.T) {
	t.Parallel()
	pubKey, secret, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	sec := base64.StdEncoding.EncodeToString(secret)
	dir := t.TempDir()
	repotest.WriteFile(t, dir+"/tree/f", "ed25519\n", 0o644)
	pub := filepath.Join(dir, "pub")
	grove(t, "--repo="+pub, "init", "--mode=archive")
	grove(t, "--repo="+pub, "commit", "-b", "main", "--tree=dir="+dir+"/tree", "--sign="+sec, "--sign-type=ed25519")
	grove(t, "--repo="+pub, "summary", "-u", "--sign="+sec, "--sign-type=ed25519")
	url := groveServe(t, pub)
	for _, tc := range []struct {
		key string
		ok  bool
	}{{base64.StdEncoding.EncodeToString(pubKey), true}, {base64.StdEncoding.EncodeToString(otherPub), false}} {
		dst := t.TempDir() + "/dst"
		grove(t, "--repo="+dst, "init", "--mode=bare-user")
		grove(t, "--repo="+dst, "remote", "add", "--no-gpg-verify", "--sign-verify=ed25519=inline:"+tc.key,
			"--set=sign-verify-summary=true", "origin", url)
		conf, _ := os.ReadFile(dst + "/config")
		if !strings.Contains(string(conf), "verification-ed25519-key="+tc.key+"\nsign-verify=ed25519\n") {
			t.Errorf("config:\n%s", conf)
		}
		_, errOut, err := groveErr(t, "--repo="+dst, "pull", "origin", "main")
		if (err == nil) != tc.ok {
			t.Errorf("key ok=%v: pull err %v %s", tc.ok, err, errOut)
		}
		inspMustRun(t, "ostree", "--repo="+dst, "fsck")
	}
}

// TestOstreePullsFromGroveServe: a repository grove wrote (commit,
// summary -u) served by grove serve is pulled by ostree into bare-user and
// archive repositories, without signatures; fsck is clean and the trees
// are the same.
func TestOstreePullsFromGroveServe(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	repotest.RichTree(t, tree)
	pub := filepath.Join(dir, "pub")
	grove(t, "--repo="+pub, "init", "--mode=archive")
	grove(t, "--repo="+pub, "commit", "-b", "os/main", "--tree=dir="+tree)
	grove(t, "--repo="+pub, "summary", "-u")
	url := groveServe(t, pub)
	want := t.TempDir() + "/want"
	grove(t, "--repo="+pub, "checkout", "-U", "os/main", want)
	for _, mode := range []string{"bare-user", "archive"} {
		dst := t.TempDir() + "/dst"
		repotest.Ostree(t, "--repo="+dst, "init", "--mode="+mode)
		repotest.Ostree(t, "--repo="+dst, "remote", "add", "--no-gpg-verify", "origin", url)
		repotest.Ostree(t, "--repo="+dst, "pull", "origin", "os/main")
		repotest.Ostree(t, "--repo="+dst, "fsck")
		got := t.TempDir() + "/got"
		repotest.Ostree(t, "--repo="+dst, "checkout", "-U", "origin:os/main", got)
		repotest.SameTree(t, want, got)
	}
}
