package admin_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/admin"
	"github.com/groveos/grove/core/sysroot/sysroottest"
)

// ostreeEnv is the environment every real ostree admin runs with here:
// no immutable bits (so temp dirs can be removed) and no global sync().
var ostreeEnv = []string{"OSTREE_SYSROOT_DEBUG=mutable-deployments", "OSTREE_SYSROOT_OPTS=skip-sync"}

func ostreeAdmin(t *testing.T, sysrootDir string, args ...string) string {
	t.Helper()
	out, err := ostreeAdminErr(t, sysrootDir, args...)
	if err != nil {
		t.Fatalf("ostree admin %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func ostreeAdminErr(t *testing.T, sysrootDir string, args ...string) (string, error) {
	t.Helper()
	bin := repotest.NeedOstree(t)
	cmd := exec.Command(bin, append([]string{"admin", "--sysroot=" + sysrootDir}, args...)...)
	cmd.Env = append(os.Environ(), ostreeEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// fixture is a pair of sysroots, one written by Grove and one by ostree,
// whose system repositories hold the same commits.
type fixture struct {
	t          *testing.T
	ctx        context.Context
	dir        string
	grove, ost string
	msgs       []string
	commits    map[string]oid.Checksum
	clock      time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	repotest.NeedOstree(t)
	dir := t.TempDir()
	f := &fixture{t: t, ctx: context.Background(), dir: dir, grove: filepath.Join(dir, "grove"), ost: filepath.Join(dir, "ostree"),
		commits: map[string]oid.Checksum{}, clock: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}
	if err := sysroottest.NewSysroot(f.ctx, f.grove, "testos"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(f.ost, 0o755); err != nil {
		t.Fatal(err)
	}
	repotest.Ostree(t, "admin", "init-fs", f.ost)
	ostreeAdmin(t, f.ost, "os-init", "testos")
	return f
}

// commit commits the same tree into both system repositories.
func (f *fixture) commit(name, ref, version string, tree sysroottest.Tree) oid.Checksum {
	f.t.Helper()
	src := filepath.Join(f.dir, "trees", name)
	if err := tree.Write(src); err != nil {
		f.t.Fatal(err)
	}
	f.clock = f.clock.Add(time.Hour)
	var sums []oid.Checksum
	for _, root := range []string{f.grove, f.ost} {
		r, err := repo.Open(f.ctx, filepath.Join(root, "ostree/repo"))
		if err != nil {
			f.t.Fatal(err)
		}
		sum, err := sysroottest.Commit(f.ctx, r, src, ref, "Build", version, f.clock)
		if err != nil {
			f.t.Fatal(err)
		}
		sums = append(sums, sum)
	}
	if sums[0] != sums[1] {
		f.t.Fatalf("same tree, different commits %s %s", sums[0], sums[1])
	}
	f.commits[name] = sums[0]
	return sums[0]
}

func (f *fixture) open() *sysroot.Sysroot {
	f.t.Helper()
	s, err := sysroot.Open(f.ctx, f.grove, sysroot.Options{
		Debug:     sysroot.Debug{MutableDeployments: true},
		OnMessage: func(m string) { f.msgs = append(f.msgs, m) },
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// groveDeploy does what `ostree admin deploy --os=testos REF` does.
func (f *fixture) groveDeploy(ref string, ko admin.KargOptions, flags sysroot.WriteFlags) {
	f.t.Helper()
	s := f.open()
	if err := s.Lock(f.ctx, nil); err != nil {
		f.t.Fatal(err)
	}
	defer s.Unlock()
	sum, err := s.Repo().ResolveRev(f.ctx, ref)
	if err != nil {
		f.t.Fatal(err)
	}
	merge := s.MergeDeployment("testos")
	if _, err := s.Cleanup(f.ctx, sysroot.CleanupOptions{}); err != nil {
		f.t.Fatal(err)
	}
	kargs, err := admin.DeployKargs(s, merge, ko)
	if err != nil {
		f.t.Fatal(err)
	}
	d, err := admin.Deploy(f.ctx, s, admin.DeployOptions{Stateroot: "testos", Commit: sum, Origin: sysroot.NewOrigin(ref), Merge: merge, Kargs: kargs})
	if err != nil {
		f.t.Fatal(err)
	}
	flags.NoClean = true
	if err := s.SimpleWriteDeployment(f.ctx, "testos", d, merge, flags); err != nil {
		f.t.Fatal(err)
	}
	if _, err := s.Cleanup(f.ctx, sysroot.CleanupOptions{Prune: true}); err != nil {
		f.t.Fatal(err)
	}
}

// same fails unless both sysroots hold the same tree and ostree reports
// the same status for both.
func (f *fixture) same() {
	f.t.Helper()
	a, err := sysroottest.Manifest(f.ost, sysroottest.SkipVolatile)
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := sysroottest.Manifest(f.grove, sysroottest.SkipVolatile)
	if err != nil {
		f.t.Fatal(err)
	}
	if d := sysroottest.DiffManifests(a, b); d != "" {
		if os.Getenv("SYSROOT_KEEP") != "" {
			f.t.Logf("kept %s", f.dir)
			f.t.Cleanup(func() { exec.Command("cp", "-a", f.dir, os.Getenv("SYSROOT_KEEP")).Run() })
		}
		f.t.Fatalf("sysroots differ (- ostree, + grove):\n%s", d)
	}
	if sa, sb := ostreeAdmin(f.t, f.ost, "status"), ostreeAdmin(f.t, f.grove, "status"); sa != sb {
		f.t.Fatalf("ostree admin status differs:\nostree's sysroot:\n%s\ngrove's sysroot:\n%s", sa, sb)
	}
}

func (f *fixture) edit(rel, content string) {
	f.t.Helper()
	for _, root := range []string{f.grove, f.ost} {
		matches, _ := filepath.Glob(filepath.Join(root, "ostree/deploy/testos/deploy/*.0"))
		if len(matches) == 0 {
			f.t.Fatal("no deployment to edit")
		}
		// the default deployment is the one the first entry names
		s, err := sysroot.Open(f.ctx, root, sysroot.Options{})
		if err != nil {
			f.t.Fatal(err)
		}
		p := filepath.Join(root, s.Deployments()[0].Dir(), rel)
		if content == "" {
			if err := os.RemoveAll(p); err != nil {
				f.t.Fatal(err)
			}
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

func TestDeployMatchesOstree(t *testing.T) {
	f := newFixture(t)
	f.commit("v1", "testos/buildmain/x86_64-runtime", "1.0.9", sysroottest.Tree{})
	f.groveDeploy("testos/buildmain/x86_64-runtime", admin.KargOptions{}, sysroot.WriteFlags{})
	ostreeAdmin(t, f.ost, "deploy", "--os=testos", "testos/buildmain/x86_64-runtime")
	f.same()

	f.edit("etc/aconfigfile", "locally edited\n")
	f.edit("etc/userfile", "a local file\n")
	f.edit("etc/testdirectory", "")
	f.commit("v2", "testos/buildmain/x86_64-runtime", "1.0.10", sysroottest.Tree{
		Binary: "a new executable\n",
		Etc:    map[string]string{"NetworkManager/nm.conf": "upstream changed\n", "newfile": "new upstream\n"},
	})
	f.groveDeploy("testos/buildmain/x86_64-runtime", admin.KargOptions{}, sysroot.WriteFlags{})
	ostreeAdmin(t, f.ost, "deploy", "--os=testos", "testos/buildmain/x86_64-runtime")
	f.same()
	if !strings.Contains(strings.Join(f.msgs, "\n"), "Copying /etc changes: 1 modified, 1 removed, 1 added") {
		t.Fatalf("messages: %q", f.msgs)
	}

	// A new kernel and kernel arguments: a third deployment pushes the
	// oldest out (no retain flags).
	f.commit("v3", "testos/buildmain/x86_64-runtime", "1.0.11", sysroottest.Tree{Kernel: "a new kernel\n"})
	f.groveDeploy("testos/buildmain/x86_64-runtime", admin.KargOptions{Replace: []string{"root=LABEL=MOO", "quiet"}}, sysroot.WriteFlags{})
	ostreeAdmin(t, f.ost, "deploy", "--os=testos", "--karg=root=LABEL=MOO", "--karg=quiet", "testos/buildmain/x86_64-runtime")
	f.same()
}

// Kernel layouts, titles and entry keys: each case deployed by grove and
// by ostree gives byte-identical sysroots (two deploys, so existing
// entries are rewritten too).
func TestDeployLayoutsMatchOstree(t *testing.T) {
	osRelease := func(lines string) map[string]string { return map[string]string{"os-release": lines} }
	cases := []struct {
		name   string
		tree   sysroottest.Tree
		setup  func(f *fixture)
		kargs  []string
		second sysroottest.Tree
	}{
		{name: "legacy ostree-boot", tree: sysroottest.Tree{Legacy: "usr/lib/ostree-boot"}},
		{name: "legacy boot", tree: sysroottest.Tree{Legacy: "boot"}},
		{name: "no initramfs", tree: sysroottest.Tree{NoInitramfs: true}, kargs: []string{"root=/dev/vda"}},
		{name: "devicetree", tree: sysroottest.Tree{Devicetree: "a device tree\n"}},
		{name: "dtb directory", tree: sysroottest.Tree{DTB: map[string]string{"vendor/board.dtb": "dtb1\n", "other.dtb": "dtb2\n"}}},
		{name: "fips hmac", tree: sysroottest.Tree{HMAC: true}},
		{name: "usr/lib/os-release wins", tree: sysroottest.Tree{Files: map[string]string{"usr/lib/os-release": "ID=fromlib\nPRETTY_NAME=\"From Lib 7\"\n"}}},
		{name: "title contains version", tree: sysroottest.Tree{PrettyName: "TestOS 1.0.9 Edition"}},
		{name: "ID when no PRETTY_NAME", tree: sysroottest.Tree{Etc: osRelease("NAME=Bare\nID=bare\n")}},
		{name: "shell quoting", tree: sysroottest.Tree{Etc: osRelease("ID=q\nPRETTY_NAME='It'\\''s \"quoted\"'\\ $x\n# PRETTY_NAME=comment\n")}},
		{name: "bls-append-except-default", setup: func(f *fixture) {
			for _, root := range []string{f.grove, f.ost} {
				p := filepath.Join(root, "ostree/repo/config")
				b, _ := os.ReadFile(p)
				os.WriteFile(p, append(b, []byte("\n[sysroot]\nbls-append-except-default=grub_users=\"\";extra=1\n")...), 0o644)
			}
		}},
		{name: "two stateroots", setup: func(f *fixture) {
			if err := f.open().InitStateroot(f.ctx, "otheros"); err != nil {
				f.t.Fatal(err)
			}
			ostreeAdmin(f.t, f.ost, "os-init", "otheros")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if c.setup != nil {
				c.setup(f)
			}
			f.commit("v1", "testos/buildmain/x86_64-runtime", "1.0.9", c.tree)
			ostreeArgs := []string{"deploy", "--os=testos"}
			for _, k := range c.kargs {
				ostreeArgs = append(ostreeArgs, "--karg="+k)
			}
			f.groveDeploy("testos/buildmain/x86_64-runtime", admin.KargOptions{Replace: c.kargs}, sysroot.WriteFlags{})
			ostreeAdmin(t, f.ost, append(ostreeArgs, "testos/buildmain/x86_64-runtime")...)
			f.same()
			second := c.second
			second.Binary = "second\n"
			second.Legacy, second.NoInitramfs, second.DTB, second.HMAC = c.tree.Legacy, c.tree.NoInitramfs, c.tree.DTB, c.tree.HMAC
			f.commit("v2", "testos/buildmain/x86_64-runtime", "1.0.10", second)
			if c.name == "two stateroots" {
				f.groveDeployOS("otheros", "testos/buildmain/x86_64-runtime")
				ostreeAdmin(t, f.ost, "deploy", "--os=otheros", "testos/buildmain/x86_64-runtime")
			} else {
				f.groveDeploy("testos/buildmain/x86_64-runtime", admin.KargOptions{}, sysroot.WriteFlags{})
				ostreeAdmin(t, f.ost, "deploy", "--os=testos", "testos/buildmain/x86_64-runtime")
			}
			f.same()
		})
	}
}

// groveDeployOS deploys into another stateroot.
func (f *fixture) groveDeployOS(stateroot, ref string) {
	f.t.Helper()
	s := f.open()
	if err := s.Lock(f.ctx, nil); err != nil {
		f.t.Fatal(err)
	}
	defer s.Unlock()
	sum, err := s.Repo().ResolveRev(f.ctx, ref)
	if err != nil {
		f.t.Fatal(err)
	}
	merge := s.MergeDeployment(stateroot)
	d, err := admin.Deploy(f.ctx, s, admin.DeployOptions{Stateroot: stateroot, Commit: sum, Origin: sysroot.NewOrigin(ref), Merge: merge})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := s.SimpleWriteDeployment(f.ctx, stateroot, d, merge, sysroot.WriteFlags{}); err != nil {
		f.t.Fatal(err)
	}
}

// The /etc merge on harder cases gives ostree's etc: a new nested
// directory, a removed directory, a changed symlink, a file turned into a
// symlink, a mode change, a file under a directory the new defaults drop.
func TestEtcMergeCornerCasesMatchOstree(t *testing.T) {
	f := newFixture(t)
	f.commit("v1", "testos/buildmain/x86_64-runtime", "1.0.9", sysroottest.Tree{
		Etc:   map[string]string{"ssh/sshd_config": "Port 22\n", "dropped/keep.conf": "x\n", "mode.conf": "m\n"},
		Files: map[string]string{"usr/etc/link-target": "t\n"},
	})
	f.groveDeploy("testos/buildmain/x86_64-runtime", admin.KargOptions{}, sysroot.WriteFlags{})
	ostreeAdmin(t, f.ost, "deploy", "--os=testos", "testos/buildmain/x86_64-runtime")
	for _, root := range []string{f.grove, f.ost} {
		s, err := sysroot.Open(f.ctx, root, sysroot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		etc := filepath.Join(root, s.Deployments()[0].Dir(), "etc")
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(os.MkdirAll(filepath.Join(etc, "new.d/deeper"), 0o750))
		must(os.WriteFile(filepath.Join(etc, "new.d/deeper/x.conf"), []byte("deep\n"), 0o640))
		must(os.RemoveAll(filepath.Join(etc, "testdirectory")))
		must(os.Symlink("link-target", filepath.Join(etc, "alink")))
		must(os.Remove(filepath.Join(etc, "aconfigfile")))
		must(os.Symlink("/usr/share/defaults/aconfigfile", filepath.Join(etc, "aconfigfile")))
		must(os.Chmod(filepath.Join(etc, "mode.conf"), 0o600))
		must(os.Chmod(filepath.Join(etc, "ssh"), 0o700))
		must(os.WriteFile(filepath.Join(etc, "dropped/keep.conf"), []byte("local\n"), 0o644))
	}
	f.commit("v2", "testos/buildmain/x86_64-runtime", "1.0.10", sysroottest.Tree{
		Etc:   map[string]string{"ssh/sshd_config": "Port 2222\n", "mode.conf": "m2\n", "new.d/upstream.conf": "u\n"},
		Files: map[string]string{"usr/etc/link-target": "t\n"},
	})
	f.groveDeploy("testos/buildmain/x86_64-runtime", admin.KargOptions{}, sysroot.WriteFlags{})
	ostreeAdmin(t, f.ost, "deploy", "--os=testos", "testos/buildmain/x86_64-runtime")
	f.same()
}
