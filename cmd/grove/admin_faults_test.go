package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/sysroot/sysroottest"
)

// snapshot is the sysroot's manifest, volatile scratch space left out.
func snapshot(t *testing.T, sr string) string {
	t.Helper()
	m, err := sysroottest.Manifest(sr, sysroottest.SkipVolatile)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// failsLikeOstree runs an admin command with grove on grove's sysroot and
// with ostree on ostree's: both must fail with the same message, and
// grove's sysroot must be unchanged.
func (p *pair) failsLikeOstree(args ...string) string {
	p.t.Helper()
	before := snapshot(p.t, p.grove)
	_, gerr, err := run(p.t, nil, groveBin, append([]string{"admin", "--sysroot=" + p.grove}, args...)...)
	if err == nil {
		p.t.Fatalf("grove admin %s succeeded", strings.Join(args, " "))
	}
	_, oerr, err := run(p.t, nil, p.ostreeBin, append([]string{"admin", "--sysroot=" + p.ost}, args...)...)
	if err == nil {
		p.t.Fatalf("ostree admin %s succeeded", strings.Join(args, " "))
	}
	if lastLine(gerr) != lastLine(oerr) {
		p.t.Fatalf("admin %s: grove says %q, ostree %q", strings.Join(args, " "), lastLine(gerr), lastLine(oerr))
	}
	if d := sysroottest.DiffManifests(before, snapshot(p.t, p.grove)); d != "" {
		p.t.Fatalf("admin %s changed the sysroot:\n%s", strings.Join(args, " "), d)
	}
	return lastLine(gerr)
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// Bad input: each a clear error (ostree's words), a non-zero exit, and a
// sysroot left as it was (ostree itself leaves half a deployment behind).
func TestAdminBadInputLeavesSysrootUnchanged(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	p.both("deploy", "--os=testos", testRef)
	p.commit("v2", testRef, "1.0.10", sysroottest.Tree{Binary: "v2\n"})
	p.both("deploy", "--os=testos", testRef)

	p.commit("nokernel", "testos/nokernel", "2", sysroottest.Tree{NoKernel: true})
	if msg := p.failsLikeOstree("deploy", "--os=testos", "testos/nokernel"); msg != "error: Failed to find kernel in /usr/lib/modules, /usr/lib/ostree-boot or /boot" {
		t.Fatalf("no kernel: %q", msg)
	}
	p.commit("bothetc", "testos/bothetc", "2", sysroottest.Tree{EtcAtRoot: true})
	if msg := p.failsLikeOstree("deploy", "--os=testos", "testos/bothetc"); msg != "error: Preparing /etc: Tree contains both /etc and /usr/etc" {
		t.Fatalf("both etc: %q", msg)
	}
	p.failsLikeOstree("deploy", "--os=testos", "no/such/ref")
	p.failsLikeOstree("deploy", "no/such/ref") // offline and no --os
	p.failsLikeOstree("deploy", "--os=nosuchos", testRef)
	p.failsLikeOstree("undeploy", "7")
	p.failsLikeOstree("pin", "7")
	p.failsLikeOstree("pin", "x")
	p.failsLikeOstree("undeploy")
	p.failsLikeOstree("switch", "--os=testos", "no/such/ref")
	p.failsLikeOstree("upgrade") // no booted deployment, no --os
	p.failsLikeOstree("rollback-nonexistent-verb")
	// grove refuses a non-number where ostree reads atoi("x") = 0 and
	// undeploys the default deployment.
	before := snapshot(t, p.grove)
	if _, errOut, err := run(t, nil, groveBin, "admin", "--sysroot="+p.grove, "undeploy", "x"); err == nil || !strings.Contains(errOut, "Invalid index: x") {
		t.Fatalf("undeploy x: %v %q", err, errOut)
	}
	if snapshot(t, p.grove) != before {
		t.Fatal("undeploy x changed the sysroot")
	}

	// Not a sysroot: an empty directory, a missing one.
	empty := t.TempDir()
	missing := filepath.Join(empty, "missing")
	for dir, want := range map[string]string{
		empty:   "error: loading sysroot: opendir(ostree/repo): No such file or directory\n",
		missing: "error: opendir(" + missing + "): No such file or directory\n",
	} {
		for _, verb := range [][]string{{"status"}, {"deploy", "--os=x", "r"}, {"undeploy", "0"}, {"cleanup"}, {"rollback"}, {"os-init", "x"}} {
			_, errOut, err := run(t, nil, groveBin, append([]string{"admin", "--sysroot=" + dir}, verb...)...)
			if err == nil || errOut != want {
				t.Fatalf("%s on %s: %v %q", verb[0], dir, err, errOut)
			}
			// ostree's writers take ostree/lock before loading and fail
			// with a bare "No such file or directory"; grove loads first
			// and names what is missing. Readers agree word for word.
			if verb[0] != "rollback" && (verb[0] == "status" || verb[0] == "os-init" || dir == missing) {
				if _, oerr, err := run(t, nil, p.ostreeBin, append([]string{"admin", "--sysroot=" + dir}, verb...)...); err == nil || lastLine(oerr) != strings.TrimSpace(want) {
					t.Fatalf("ostree %s on %s: %v %q", verb[0], dir, err, oerr)
				}
			}
		}
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Fatalf("commands wrote into a non-sysroot: %v", entries)
	}
}

// A corrupt boot entry or origin file: status and every writer fail with
// ostree's message and write nothing.
func TestAdminCorruptEntryAndOrigin(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	p.both("deploy", "--os=testos", testRef)
	p.commit("v2", testRef, "1.0.10", sysroottest.Tree{Binary: "v2\n"})
	p.both("deploy", "--os=testos", testRef)

	corrupt := func(rel, content string) (restore func()) {
		var olds []string
		for _, sr := range []string{p.grove, p.ost} {
			full := filepath.Join(sr, rel)
			old, err := os.ReadFile(full)
			if err != nil {
				t.Fatal(err)
			}
			olds = append(olds, string(old))
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return func() {
			for i, sr := range []string{p.grove, p.ost} {
				os.WriteFile(filepath.Join(sr, rel), []byte(olds[i]), 0o644)
			}
		}
	}
	entry := "boot/loader/entries/ostree-2-testos.conf"
	orig, err := os.ReadFile(filepath.Join(p.grove, entry))
	if err != nil {
		t.Fatal(err)
	}
	noOstree := strings.Replace(string(orig), "ostree=", "notostree=", 1)
	badLink := strings.Replace(string(orig), "ostree=/ostree/boot.0/testos/", "ostree=/ostree/boot.0/other/", 1)
	badArg := strings.Replace(string(orig), "ostree=/ostree/boot.0/testos/", "ostree=/elsewhere/", 1)
	for _, c := range []struct{ name, content, want string }{
		{"no ostree=", noOstree, "No ostree= kernel argument found"},
		{"dangling bootlink", badLink, "No such file or directory"},
		{"bad ostree=", badArg, "Invalid ostree= argument"},
		{"not UTF-8", "title \xff\xfe\n", ""},
	} {
		restore := corrupt(entry, c.content)
		for _, verb := range [][]string{{"status"}, {"deploy", "--os=testos", testRef}, {"undeploy", "1"}, {"cleanup"}, {"rollback", "--os=testos"}} {
			if verb[0] == "rollback" {
				// ostree has no rollback: check grove alone
				before := snapshot(t, p.grove)
				if _, errOut, err := run(t, nil, groveBin, "admin", "--sysroot="+p.grove, "rollback"); err == nil || !strings.Contains(errOut, "loading sysroot") {
					t.Fatalf("%s: rollback: %v %q", c.name, err, errOut)
				}
				if snapshot(t, p.grove) != before {
					t.Fatalf("%s: rollback changed the sysroot", c.name)
				}
				continue
			}
			msg := p.failsLikeOstree(verb...)
			if !strings.Contains(msg, c.want) {
				t.Fatalf("%s: %s: %q", c.name, verb[0], msg)
			}
		}
		restore()
	}
	p.same()

	origin := strings.TrimPrefix(p.deploymentDir(p.grove, 0), p.grove+"/") + ".origin"
	for _, bad := range []string{"[origin\nrefspec=x\n", "refspec=x\n", "[origin]\nrefspec\n"} {
		restore := corrupt(origin, bad)
		for _, verb := range [][]string{{"status"}, {"deploy", "--os=testos", testRef}, {"pin", "0"}} {
			p.failsLikeOstree(verb...)
		}
		restore()
	}
	p.same()
}

// A boot loader configuration grove does not write (grub2 here) is
// refused before anything changes; sysroot.bootloader=none lets the BLS
// entries be written alone.
func TestAdminRefusesOtherBootloaders(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	if err := os.MkdirAll(filepath.Join(p.grove, "boot/grub2"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(p.grove, "boot/grub2/grub.cfg"), []byte("# grub\n"), 0o644)
	before := snapshot(t, p.grove)
	_, errOut, err := run(t, nil, groveBin, "admin", "--sysroot="+p.grove, "deploy", "--os=testos", testRef)
	if err == nil || !strings.Contains(errOut, "boot/grub2/grub.cfg (boot loader grub2)") {
		t.Fatalf("deploy with grub2: %v %q", err, errOut)
	}
	if d := sysroottest.DiffManifests(before, snapshot(t, p.grove)); d != "" {
		t.Fatalf("refused deploy changed the sysroot:\n%s", d)
	}
	grove(t, "--repo="+p.grove+"/ostree/repo", "config", "set", "sysroot.bootloader", "none")
	mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "deploy", "--os=testos", testRef)
	if out := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status"); !strings.Contains(out, "Version: 1.0.9") {
		t.Fatalf("ostree status:\n%s", out)
	}
}
