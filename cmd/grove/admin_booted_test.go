package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/groveos/grove/core/sysroot/sysroottest"
)

// bootInto plays a machine booted into the deployment at index: the
// sysroot is reached through the deployment directory, whose ostree, boot
// and var entries lead back into the physical sysroot as a booted
// machine's mounts do, GROVE_ADMIN_ROOT names it as "/", and a private
// run directory holds ostree-booted. It returns the --sysroot argument
// and the environment.
func (p *pair) bootInto(sr string, index int) (string, []string) {
	p.t.Helper()
	dep := p.deploymentDir(sr, index)
	for name, target := range map[string]string{"ostree": "../../../..", "boot": "../../../../../boot", "var": "../../var"} {
		link := filepath.Join(dep, name)
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			p.t.Fatal(err)
		}
	}
	run := filepath.Join(p.dir, "run")
	os.MkdirAll(run, 0o755)
	if err := os.WriteFile(filepath.Join(run, "ostree-booted"), nil, 0o644); err != nil {
		p.t.Fatal(err)
	}
	return "--sysroot=" + dep, []string{"GROVE_ADMIN_ROOT=" + dep, "GROVE_ADMIN_RUN=" + run}
}

// markedStatus turns ostree's offline status into what a booted machine
// shows: "*" on the booted deployment, (pending) before it and
// (rollback) after it, for the booted stateroot.
func markedStatus(offline string, booted int) string {
	lines := strings.SplitAfter(offline, "\n")
	idx := -1
	for i, l := range lines {
		if !strings.HasPrefix(l, "  testos ") {
			continue
		}
		idx++
		body := strings.TrimSuffix(l, "\n")
		switch {
		case idx == booted:
			body = "*" + body[1:]
		case idx == booted-1:
			body += " (pending)"
		case idx == booted+1:
			body += " (rollback)"
		}
		lines[i] = body + "\n"
	}
	return strings.Join(lines, "")
}

// A booted machine: marks in status, the booted deployment cannot be
// undeployed, rollback works around it, deploy keeps it and merges its /etc.
func TestAdminBootedSimulation(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	p.both("deploy", "--os=testos", testRef)
	p.commit("v2", testRef, "1.0.10", sysroottest.Tree{Binary: "v2\n"})
	p.both("deploy", "--os=testos", testRef)
	sysArg, env := p.bootInto(p.grove, 1) // running v1; v2 is pending

	offline := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status")
	if got, want := mustRun(t, env, groveBin, "admin", sysArg, "status"), markedStatus(offline, 1); got != want {
		t.Fatalf("booted status:\n%s\nwant\n%s", got, want)
	}
	before := snapshot(t, p.grove)
	if _, errOut, err := run(t, env, groveBin, "admin", sysArg, "undeploy", "1"); err == nil || !strings.Contains(errOut, "Cannot undeploy currently booted deployment 1") {
		t.Fatalf("undeploy booted: %v %q", err, errOut)
	}
	if snapshot(t, p.grove) != before {
		t.Fatal("refused undeploy changed the sysroot")
	}

	// Rollback with something pending returns to the running deployment.
	out := mustRun(t, env, groveBin, "admin", sysArg, "rollback")
	if !strings.Contains(out, "\nMoving '") || !strings.Contains(out, "bootconfig swap: yes") {
		t.Fatalf("rollback printed %q", out)
	}
	offline2 := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status")
	if firstLine(offline2) != strings.Split(offline, "\n")[3] {
		t.Fatalf("the running deployment is not first after rollback:\n%s\nbefore:\n%s", offline2, offline)
	}
	if got, want := mustRun(t, env, groveBin, "admin", sysArg, "status"), markedStatus(offline2, 0); got != want {
		t.Fatalf("status after rollback:\n%s\nwant\n%s", got, want)
	}
	// Deploy while booted: no --os needed, the booted /etc is merged, the
	// pending deployment goes, the booted one stays.
	runningEtc := filepath.Join(p.deploymentDir(p.grove, 0), "etc/edited-on-the-running-system")
	if err := os.WriteFile(runningEtc, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.commit("v3", testRef, "1.0.11", sysroottest.Tree{Binary: "v3\n"})
	out = mustRun(t, env, groveBin, "admin", sysArg, "deploy", testRef)
	if !strings.Contains(out, "Copying /etc changes: 0 modified, 0 removed, 1 added") {
		t.Fatalf("deploy while booted printed %q", out)
	}
	newEtc := filepath.Join(p.deploymentDir(p.grove, 0), "etc/edited-on-the-running-system")
	if b, err := os.ReadFile(newEtc); err != nil || string(b) != "keep me\n" {
		t.Fatalf("booted /etc not merged: %q %v", b, err)
	}
	offline3 := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status")
	if got, want := mustRun(t, env, groveBin, "admin", sysArg, "status"), markedStatus(offline3, 1); got != want {
		t.Fatalf("status after deploy:\n%s\nwant\n%s", got, want)
	}
	if strings.Count(offline3, "  testos ") != 2 {
		t.Fatalf("want the new and the booted deployment:\n%s", offline3)
	}
	// config-diff of the booted deployment needs no --os.
	if out := mustRun(t, env, groveBin, "admin", sysArg, "config-diff"); out != "A    edited-on-the-running-system\n" {
		t.Fatalf("config-diff printed %q", out)
	}
	if got := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "status"); got != offline3 {
		t.Fatalf("grove offline status differs from ostree's:\n%s\n%s", got, offline3)
	}
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

// unlock --hotfix on the running deployment: a writable overlay on /usr
// (a real overlayfs mount, on the simulated root), a clean clone as the
// rollback target, origin unlocked=hotfix, which ostree reports too.
func TestAdminUnlockHotfix(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("overlay mounts need root")
	}
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	p.both("deploy", "--os=testos", testRef)
	sysArg, env := p.bootInto(p.grove, 0)
	dep := p.deploymentDir(p.grove, 0)
	out, errOut, err := run(t, env, groveBin, "admin", sysArg, "unlock", "--hotfix")
	if err != nil && strings.Contains(errOut, "Failed overlayfs mount") {
		t.Skipf("no overlayfs here: %s", errOut)
	}
	if err != nil {
		t.Fatalf("unlock: %v %s", err, errOut)
	}
	t.Cleanup(func() { unix.Unmount(filepath.Join(dep, "usr"), unix.MNT_DETACH) })
	if !strings.Contains(out, "\nHotfix mode enabled.") {
		t.Fatalf("unlock printed %q", out)
	}
	if err := os.WriteFile(filepath.Join(dep, "usr/hotfixed"), []byte("x"), 0o644); err != nil {
		t.Fatalf("/usr not writable after unlock: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dep, ".usr-ovl-upper/hotfixed")); err != nil {
		t.Fatalf("write did not land in the overlay: %v", err)
	}
	unix.Unmount(filepath.Join(dep, "usr"), unix.MNT_DETACH)
	offline := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status")
	if strings.Count(offline, "  testos ") != 2 || !strings.Contains(offline, "    Unlocked: hotfix\n") {
		t.Fatalf("ostree sees:\n%s", offline)
	}
	if got := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "status"); got != offline {
		t.Fatalf("grove status:\n%s\nostree:\n%s", got, offline)
	}
	if _, errOut, err := run(t, env, groveBin, "admin", sysArg, "unlock"); err == nil || !strings.Contains(errOut, "Deployment is already in unlocked state: hotfix") {
		t.Fatalf("second unlock: %v %q", err, errOut)
	}
}
