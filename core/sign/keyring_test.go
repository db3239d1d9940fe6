package sign

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/keyring"
	"github.com/groveos/grove/core/repotest"
)

// TestImportKeysAndListLikeOstree imports keys into a remote keyring the
// way `ostree remote gpg-import` does, and lists them as `ostree remote
// gpg-list-keys` (2022.7's name) prints them, with ostree reading grove's keyring and
// grove reading ostree's.
func TestImportKeysAndListLikeOstree(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	a := repotest.NewGPGKey(t, "Alice Vendor", "alice@vendor.example", "EDDSA")
	b := repotest.NewGPGKey(t, "Bob Vendor", "Bob.V@Vendor.example", "RSA")
	p := t.TempDir() + "/repo"
	repotest.Ostree(t, "init", "--repo="+p, "--mode=archive")
	for _, r := range []string{"grove", "ostree"} {
		repotest.Ostree(t, "--repo="+p, "remote", "add", "--no-gpg-verify", r, "http://example.invalid/")
	}
	src := keyring.New()
	for _, f := range []string{a.Armored, b.PublicKeyring} {
		if err := src.AddFile(f); err != nil {
			t.Fatal(err)
		}
	}
	n, err := ImportKeys(p, "grove", src, nil)
	if err != nil || n != 2 {
		t.Fatalf("import: %d %v", n, err)
	}
	// Importing again adds nothing new.
	if n, err := ImportKeys(p, "grove", src, []string{a.KeyID}); err != nil || n != 0 {
		t.Fatalf("re-import: %d %v", n, err)
	}
	if _, err := ImportKeys(p, "grove", src, []string{"0123456789ABCDEF"}); err == nil || err.Error() != `GPG: Unable to find key "0123456789ABCDEF": GPGME: End of file` {
		t.Fatalf("unknown key ID: %v", err)
	}
	for _, f := range []string{a.PublicKeyring, b.Armored} {
		out := repotest.Ostree(t, "--repo="+p, "remote", "gpg-import", "--keyring="+f, "ostree")
		if out != `Imported 1 GPG key to remote "ostree"` {
			t.Fatalf("ostree gpg-import: %q", out)
		}
	}
	for _, r := range []string{"grove", "ostree"} {
		cmd := exec.Command("ostree", "remote", "gpg-list-keys", "--repo="+p, r)
		want, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		k, err := LoadGPGKeyring(GPGKeyringOptions{Repo: p, Remote: r, NoGlobal: true})
		if err != nil {
			t.Fatal(err)
		}
		got := keyring.DescribeKeys(k.Keys(time.Now()))
		if sortBlocks(got) != sortBlocks(string(want)) {
			t.Errorf("remote %s:\nostree:\n%s\ngrove:\n%s", r, want, got)
		}
	}
	if st, err := os.Stat(filepath.Join(p, "grove.trustedkeys.gpg")); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("keyring file: %v", err)
	}
}

// sortBlocks orders the per-key blocks of a list-gpg-keys output (the
// order of keys in a keyring is the importer's business).
func sortBlocks(s string) string {
	blocks := strings.Split(s, "Key: ")
	for i := 1; i < len(blocks); i++ {
		for j := i + 1; j < len(blocks); j++ {
			if blocks[j] < blocks[i] {
				blocks[i], blocks[j] = blocks[j], blocks[i]
			}
		}
	}
	return strings.Join(blocks, "Key: ")
}
