package sysroot_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/sysroot"
)

const csum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
const bootcsum = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

// minimal builds, by hand, the smallest sysroot `ostree admin status`
// accepts (ostree-format.md §9.6): a bare repo, one entry, the bootlinks
// and a deployment directory.
func minimal(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"ostree/repo/objects", "ostree/deploy/myos/deploy/" + csum + ".0", "boot/loader.0/entries", "ostree/boot.0.0/myos/" + bootcsum} {
		must(os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	must(os.WriteFile(filepath.Join(dir, "ostree/repo/config"), []byte("[core]\nrepo_version=1\nmode=bare\n"), 0o644))
	must(os.Symlink("loader.0", filepath.Join(dir, "boot/loader")))
	must(os.Symlink("boot.0.0", filepath.Join(dir, "ostree/boot.0")))
	must(os.Symlink("../../../deploy/myos/deploy/"+csum+".0", filepath.Join(dir, "ostree/boot.0.0/myos", bootcsum, "0")))
	must(os.WriteFile(filepath.Join(dir, "boot/loader.0/entries/ostree-1-myos.conf"),
		[]byte("version 1\noptions quiet ostree=/ostree/boot.0/myos/"+bootcsum+"/0\n"), 0o644))
	return dir
}

func ostreeStatus(t *testing.T, dir string) (string, error) {
	t.Helper()
	bin := repotest.NeedOstree(t)
	out, err := exec.Command(bin, "admin", "--sysroot="+dir, "status").CombinedOutput()
	return string(out), err
}

func TestLoadMinimalSysroot(t *testing.T) {
	dir := minimal(t)
	s, err := sysroot.Open(context.Background(), dir, sysroot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds := s.Deployments()
	if len(ds) != 1 || s.Bootversion() != 0 || s.Subbootversion() != 0 || s.IsBooted() {
		t.Fatalf("loaded %d deployments, bootversion %d.%d, booted %v", len(ds), s.Bootversion(), s.Subbootversion(), s.IsBooted())
	}
	d := ds[0]
	if d.Stateroot != "myos" || d.Checksum != csum || d.Serial != 0 || d.BootChecksum != bootcsum || d.BootSerial != 0 || d.Origin != nil || d.Kargs() != "quiet ostree=/ostree/boot.0/myos/"+bootcsum+"/0" {
		t.Fatalf("deployment %+v", d)
	}
	if out, err := ostreeStatus(t, dir); err != nil || out != "  myos "+csum+".0\n    origin: none\n" {
		t.Fatalf("ostree status: %v %q", err, out)
	}
}

// Broken links and symlinks fail with ostree's messages.
func TestLoadErrorsMatchOstree(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(dir string) error
		want   string
	}{
		{"loader not a link", func(d string) error {
			os.Remove(filepath.Join(d, "boot/loader"))
			return os.Mkdir(filepath.Join(d, "boot/loader"), 0o755)
		}, "Not a symbolic link: boot/loader"},
		{"loader target", func(d string) error {
			os.Remove(filepath.Join(d, "boot/loader"))
			return os.Symlink("loader.7", filepath.Join(d, "boot/loader"))
		}, "Invalid target 'loader.7' in boot/loader"},
		{"bootlink target", func(d string) error {
			os.Remove(filepath.Join(d, "ostree/boot.0"))
			return os.Symlink("boot.0.x", filepath.Join(d, "ostree/boot.0"))
		}, "Invalid target 'boot.0.x' in ostree/boot.0"},
		{"deploy name", func(d string) error {
			l := filepath.Join(d, "ostree/boot.0.0/myos", bootcsum, "0")
			os.Remove(l)
			os.MkdirAll(filepath.Join(d, "ostree/deploy/myos/deploy/NOTHEX.0"), 0o755)
			return os.Symlink("../../../deploy/myos/deploy/NOTHEX.0", l)
		}, "Invalid deploy name 'NOTHEX.0', expected CHECKSUM.TREESERIAL"},
		{"no deploy dir", func(d string) error {
			return os.RemoveAll(filepath.Join(d, "ostree/deploy/myos/deploy", csum+".0"))
		}, "No such file or directory"},
		{"bad overlay initrd", func(d string) error {
			p := filepath.Join(d, "boot/loader.0/entries/ostree-1-myos.conf")
			b, _ := os.ReadFile(p)
			return os.WriteFile(p, append(b, "initrd /a.img\ninitrd /ostree/initramfs-overlays/short.img\n"...), 0o644)
		}, "Malformed overlay initrd filename: short.img"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := minimal(t)
			if err := c.break_(dir); err != nil {
				t.Fatal(err)
			}
			_, err := sysroot.Open(context.Background(), dir, sysroot.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			out, oerr := ostreeStatus(t, dir)
			if oerr == nil || strings.TrimPrefix(strings.TrimSpace(out), "error: ") != err.Error() {
				t.Fatalf("ostree says %q (%v), grove %q", out, oerr, err)
			}
		})
	}
}

// bootedEnv plays the machine booted into the minimal sysroot's
// deployment: it is reached through the deployment directory (ostree and
// boot lead back to the physical root), which is also Env.Root.
func bootedEnv(t *testing.T, dir string) (string, sysroot.Env) {
	dep := filepath.Join(dir, "ostree/deploy/myos/deploy", csum+".0")
	os.Symlink("../../../..", filepath.Join(dep, "ostree"))
	os.Symlink("../../../../../boot", filepath.Join(dep, "boot"))
	run := t.TempDir()
	if err := os.WriteFile(filepath.Join(run, "ostree-booted"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dep, sysroot.Env{Root: dep, Run: run}
}

func TestBootedDetection(t *testing.T) {
	ctx := context.Background()
	dir := minimal(t)
	// ostree-booted alone, sysroot elsewhere: offline.
	_, env := bootedEnv(t, dir)
	s, err := sysroot.Open(ctx, dir, sysroot.Options{Env: env})
	if err != nil || s.IsBooted() || s.Booted() != nil {
		t.Fatalf("physical sysroot seen as booted: %v %v", err, s)
	}
	dep, env := bootedEnv(t, dir)
	s, err = sysroot.Open(ctx, dep, sysroot.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsBooted() || s.Booted() == nil || s.Booted() != s.Deployments()[0] {
		t.Fatalf("booted %v %v", s.IsBooted(), s.Booted())
	}
	// Booted, but no entry for the running root: libostree's error.
	other := t.TempDir()
	env.Root = other
	if _, err := sysroot.Open(ctx, other, sysroot.Options{Env: env}); err == nil {
		t.Fatal("opened a non-sysroot")
	}
	env.Root = dep
	os.Remove(filepath.Join(dir, "boot/loader.0/entries/ostree-1-myos.conf"))
	_, err = sysroot.Open(ctx, dep, sysroot.Options{Env: env})
	if !errors.Is(err, sysroot.ErrCorrupt) || !strings.Contains(err.Error(), "found and in / sysroot, but bootloader entry not found") {
		t.Fatalf("err = %v", err)
	}
}

// A staged deployment (written by `ostree admin deploy --stage` on a
// booted machine) is listed first; writing a list without it drops it.
func TestStagedDeployment(t *testing.T) {
	ctx := context.Background()
	dir := minimal(t)
	dep, env := bootedEnv(t, dir)
	staged := "abababababababababababababababababababababababababababababababab"
	os.MkdirAll(filepath.Join(dir, "ostree/deploy/myos/deploy", staged+".0"), 0o755)
	os.WriteFile(filepath.Join(dir, "ostree/deploy/myos/deploy", staged+".0.origin"), []byte("[origin]\nrefspec=os:next\n"), 0o644)
	str := func(s string) gvariant.Variant { return gvariant.NewVariant("s", s) }
	target := []gvariant.DictEntry{{Key: "name", Value: str(staged + ".0")}, {Key: "osname", Value: str("myos")}, {Key: "bootcsum", Value: str(bootcsum)}}
	data, err := gvariant.Marshal(gvariant.MustParseType("a{sv}"), []gvariant.DictEntry{
		{Key: "target", Value: gvariant.NewVariant("a{sv}", target)},
		{Key: "kargs", Value: gvariant.NewVariant("as", []any{"quiet", "ro"})},
	})
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(env.Run, "ostree"), 0o755)
	if err := os.WriteFile(filepath.Join(env.Run, "ostree/staged-deployment"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := sysroot.Open(ctx, dep, sysroot.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	ds := s.Deployments()
	if len(ds) != 2 || !ds[0].Staged || ds[0].Checksum != staged || ds[0].Kargs() != "quiet ro" || ds[0].Refspec() != "os:next" || ds[1] != s.Booted() {
		t.Fatalf("deployments %+v", ds)
	}
	if pending, rollback := s.PendingRollback(""); pending != ds[0] || rollback != nil {
		t.Fatalf("pending %v rollback %v", pending, rollback)
	}
}

// The lock excludes a second holder, and is free again after Unlock.
func TestLockExcludes(t *testing.T) {
	ctx := context.Background()
	dir := minimal(t)
	a, err := sysroot.Open(ctx, dir, sysroot.Options{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := sysroot.Open(ctx, dir, sysroot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(); ok || err != nil {
		t.Fatalf("second TryLock: %v %v", ok, err)
	}
	a.Unlock()
	if _, err := os.Stat(filepath.Join(dir, "ostree/lock")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock file left: %v", err)
	}
	if ok, err := b.TryLock(); !ok || err != nil {
		t.Fatalf("TryLock after release: %v %v", ok, err)
	}
	b.Unlock()
}

// Origins are read with GLib's rules: comments and blank lines dropped,
// a group first, messages as GLib words them.
func TestParseOrigin(t *testing.T) {
	kf, err := sysroot.ParseOrigin([]byte("# comment\n\n  [origin]  \nrefspec = os:ref\r\n\n[libostree-transient]\npinned=true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(kf.Bytes()); got != "[origin]\nrefspec=os:ref\n\n[libostree-transient]\npinned=true\n" {
		t.Fatalf("rendered %q", got)
	}
	for in, want := range map[string]string{
		"refspec=x\n":         "Key file does not start with a group",
		"[origin\n":           "Key file contains line \u201c[origin\u201d which is not a key-value pair, group, or comment",
		"[origin]\nnovalue\n": "Key file contains line \u201cnovalue\u201d which is not a key-value pair, group, or comment",
		"[a[b]\nx=1\n":        "Invalid group name: a[b",
		"[origin]\n=v\n":      "Key file contains line \u201c=v\u201d which is not a key-value pair, group, or comment",
	} {
		if _, err := sysroot.ParseOrigin([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("ParseOrigin(%q) = %v, want %q", in, err, want)
		}
	}
}
