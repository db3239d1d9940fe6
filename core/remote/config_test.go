package remote_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

func TestRemotesDir(t *testing.T) {
	ctx := context.Background()
	sys := t.TempDir()
	r, err := repo.Create(ctx, filepath.Join(sys, "ostree/repo"), repo.CreateOptions{Mode: repo.ModeBare})
	if err != nil {
		t.Fatal(err)
	}
	w := remote.Where{SysrootDir: sys}
	dir := filepath.Join(sys, "etc/ostree/remotes.d")
	// One remote in the config, one in remotes.d already.
	if err := remote.Add(ctx, r, remote.Where{}, remote.AddOptions{Name: "inconfig", URL: "http://a"}); err != nil {
		t.Fatal(err)
	}
	repotest.WriteFile(t, dir+"/vendor.conf", "[remote \"vendor\"]\nurl=http://v\ngpg-verify=false\n", 0o644)
	repotest.WriteFile(t, dir+"/ignored.txt", "[remote \"ignored\"]\nurl=http://i\n", 0o644)
	if err := remote.Add(ctx, r, w, remote.AddOptions{Name: "new", URL: "http://n", Branches: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dir + "/new.conf")
	if err != nil || string(b) != "[remote \"new\"]\nurl=http://n\nbranches=x;\n" {
		t.Fatalf("new.conf = %q, %v", b, err)
	}
	all, err := remote.List(r, w)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, rem := range all {
		names = append(names, rem.Name)
	}
	if len(names) != 3 || names[0] != "inconfig" || names[1] != "new" || names[2] != "vendor" {
		t.Fatalf("remotes %v", names)
	}
	v, _ := remote.Get(r, w, "vendor")
	if g, _ := v.GPGVerify(); g || v.File != dir+"/vendor.conf" {
		t.Fatalf("vendor: gpg %v file %s", g, v.File)
	}
	// Without the sysroot, remotes.d is not read.
	if _, err := remote.Get(r, remote.Where{}, "vendor"); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("vendor without sysroot: %v", err)
	}
	// A remote defined twice is an error, worded as ostree's.
	repotest.WriteFile(t, dir+"/dup.conf", "[remote \"inconfig\"]\nurl=http://b\n", 0o644)
	if _, err := remote.List(r, w); err == nil || err.Error() != `Multiple specifications found for remote "inconfig"` {
		t.Fatalf("duplicate: %v", err)
	}
	os.Remove(dir + "/dup.conf")
	if err := remote.Delete(ctx, r, w, "vendor", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "/vendor.conf"); !os.IsNotExist(err) {
		t.Fatalf("vendor.conf still there: %v", err)
	}
	// core.add-remotes-config-dir=false keeps new remotes in the config.
	kf, _ := keyfile.Parse(r.Config().Bytes())
	kf.Set("core", "add-remotes-config-dir", "false")
	if err := r.SaveConfig(ctx, kf); err != nil {
		t.Fatal(err)
	}
	if err := remote.Add(ctx, r, w, remote.AddOptions{Name: "cfg", URL: "http://c"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := remote.Get(r, w, "cfg"); c.File != "" {
		t.Fatalf("cfg went to %s", c.File)
	}
}
