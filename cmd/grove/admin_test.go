package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/sysroottest"
)

// adminEnv is what every admin test runs ostree and grove with: no
// immutable bits (temporary directories stay removable), no global sync().
var adminEnv = []string{"OSTREE_SYSROOT_DEBUG=mutable-deployments", "OSTREE_SYSROOT_OPTS=skip-sync"}

const testRef = "testos/buildmain/x86_64-runtime"

// run runs a binary with the admin environment plus extra variables.
func run(t testing.TB, extra []string, bin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), adminEnv...), extra...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func mustRun(t testing.TB, extra []string, bin string, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, extra, bin, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", filepath.Base(bin), strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// pair is a sysroot deployed by grove beside one deployed by ostree, fed
// from one source repository of fake OS commits.
type pair struct {
	t          *testing.T
	dir, src   string
	grove, ost string
	ostreeBin  string
	clock      int
}

func newPair(t *testing.T) *pair {
	t.Helper()
	p := &pair{t: t, dir: t.TempDir(), ostreeBin: repotest.NeedOstree(t), clock: 1700000000}
	p.src = filepath.Join(p.dir, "testos-repo")
	p.grove, p.ost = filepath.Join(p.dir, "grove-sysroot"), filepath.Join(p.dir, "ostree-sysroot")
	grove(t, "--repo="+p.src, "init", "--mode=archive")
	for _, sr := range []string{p.grove, p.ost} {
		os.MkdirAll(sr, 0o755)
	}
	mustRun(t, nil, groveBin, "admin", "init-fs", p.grove)
	mustRun(t, nil, p.ostreeBin, "admin", "init-fs", p.ost)
	if out := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "os-init", "testos"); out != "ostree/deploy/testos initialized as OSTree root\n" {
		t.Fatalf("os-init printed %q", out)
	}
	mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.ost, "os-init", "testos")
	return p
}

// commit commits a fake tree to ref in the source repository and pulls it
// into both system repositories.
func (p *pair) commit(name, ref, version string, tree sysroottest.Tree) string {
	p.t.Helper()
	dir := filepath.Join(p.dir, "trees", name)
	if err := tree.Write(dir); err != nil {
		p.t.Fatal(err)
	}
	p.clock += 3600
	sum := strings.TrimSpace(grove(p.t, "--repo="+p.src, "commit", "-b", ref, "-s", "Build",
		"--add-metadata-string=version="+version, fmt.Sprintf("--timestamp=@%d", p.clock), dir))
	// ostree pull-local into both: it hardlinks metadata objects where
	// grove's copies, and the sysroots are compared link counts and all.
	repotest.Ostree(p.t, "--repo="+p.grove+"/ostree/repo", "pull-local", p.src, ref)
	repotest.Ostree(p.t, "--repo="+p.ost+"/ostree/repo", "pull-local", p.src, ref)
	return sum
}

// both runs the same admin command on each sysroot, grove's with grove
// and ostree's with ostree, and fails unless stdout is the same.
func (p *pair) both(args ...string) string {
	p.t.Helper()
	g := mustRun(p.t, nil, groveBin, append([]string{"admin", "--sysroot=" + p.grove}, args...)...)
	o := mustRun(p.t, nil, p.ostreeBin, append([]string{"admin", "--sysroot=" + p.ost}, args...)...)
	if g != o {
		p.t.Fatalf("admin %s printed differently:\ngrove:\n%s\nostree:\n%s", strings.Join(args, " "), g, o)
	}
	return g
}

// same fails unless both sysroots hold the same files (objects, entries,
// links, deployments, link counts) and grove and ostree print the same
// status for each.
func (p *pair) same() {
	p.t.Helper()
	a, err := sysroottest.Manifest(p.ost, sysroottest.SkipVolatile)
	if err != nil {
		p.t.Fatal(err)
	}
	b, err := sysroottest.Manifest(p.grove, sysroottest.SkipVolatile)
	if err != nil {
		p.t.Fatal(err)
	}
	if d := sysroottest.DiffManifests(a, b); d != "" {
		if keep := os.Getenv("GROVE_TEST_KEEP"); keep != "" {
			exec.Command("cp", "-a", p.dir, keep).Run()
		}
		p.t.Fatalf("sysroots differ (- ostree, + grove):\n%s", d)
	}
	var statuses []string
	for _, sr := range []string{p.ost, p.grove} {
		for _, bin := range []string{p.ostreeBin, groveBin} {
			statuses = append(statuses, mustRun(p.t, nil, bin, "admin", "--sysroot="+sr, "status"))
		}
	}
	for i, s := range statuses[1:] {
		if s != statuses[0] {
			p.t.Fatalf("status %d differs:\n%s\nvs ostree on ostree's sysroot:\n%s", i+1, s, statuses[0])
		}
	}
}

// edit changes the default deployment's /etc in both sysroots.
func (p *pair) edit(rel, content string) {
	p.t.Helper()
	for _, sr := range []string{p.grove, p.ost} {
		p.editIn(sr, rel, content)
	}
}

func (p *pair) editIn(sr, rel, content string) {
	p.t.Helper()
	dir := p.deploymentDir(sr, 0)
	full := filepath.Join(dir, rel)
	if content == "" {
		if err := os.RemoveAll(full); err != nil {
			p.t.Fatal(err)
		}
		return
	}
	os.MkdirAll(filepath.Dir(full), 0o755)
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *pair) deploymentDir(sr string, index int) string {
	p.t.Helper()
	s, err := sysroot.Open(t0ctx, sr, sysroot.Options{})
	if err != nil {
		p.t.Fatal(err)
	}
	return filepath.Join(sr, s.Deployments()[index].Dir())
}

// The same commits deployed by grove and by ostree give the same sysroot,
// the same output, and each tool reads the other's sysroot identically;
// then grove deploys on top of ostree's work and ostree on top of grove's.
func TestAdminDeployMatchesOstree(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	out := p.both("deploy", "--os=testos", testRef)
	if !strings.Contains(out, "Bootloader updated; bootconfig swap: yes; bootversion: boot.1.1, deployment count change: 1") {
		t.Fatalf("deploy printed %q", out)
	}
	p.same()

	p.edit("etc/aconfigfile", "locally edited\n")
	p.edit("etc/userfile", "a local file\n")
	p.edit("etc/testdirectory", "")
	p.commit("v2", testRef, "1.0.10", sysroottest.Tree{
		Binary: "a new executable\n",
		Etc:    map[string]string{"NetworkManager/nm.conf": "upstream changed\n", "newfile": "new upstream\n"},
	})
	out = p.both("deploy", "--os=testos", testRef)
	if !strings.Contains(out, "Copying /etc changes: 1 modified, 1 removed, 1 added") {
		t.Fatalf("deploy printed %q", out)
	}
	p.same()

	// kernel arguments, a new kernel, the same commit twice, retention
	p.commit("v3", testRef, "1.0.11", sysroottest.Tree{Kernel: "a new kernel\n"})
	p.both("deploy", "--os=testos", "--karg=root=LABEL=MOO", "--karg=quiet", "--karg-append=console=tty0", "--karg-append=console=ttyS0", testRef)
	p.same()
	p.both("deploy", "--os=testos", "--retain", "--karg-delete=quiet", testRef)
	p.same()
	p.both("deploy", "--os=testos", "--not-as-default", "--karg-none", "--no-prune", testRef)
	p.same()
	p.both("deploy", "--os=testos", "--retain-rollback", testRef)
	p.same()
	p.both("deploy", "--os=testos", "--retain-pending", "--no-merge", testRef)
	p.same()
	p.both("pin", "1")
	p.both("pin", "--unpin", "1")
	p.both("pin", "0")
	p.same()
	p.both("undeploy", "1")
	p.same()
	p.both("cleanup")
	p.same()
	p.both("config-diff", "--os=testos")
	p.both("kargs", "edit-in-place", "--append-if-missing=rw", "--append-if-missing=root=NOPE")
	p.same()
	p.both("set-origin", "--index=0", "--set=gpg-verify=false", "--set=branches=a;b;", "newremote", "file:///srv/repo")
	p.both("set-origin", "--index=0", "newremote", "file:///ignored", "other/branch")
	p.same()
	p.both("deploy", "--os=testos", "--karg-proc-cmdline", testRef) // the real /proc/cmdline, both
	p.same()
	origin := filepath.Join(p.dir, "custom.origin")
	os.WriteFile(origin, []byte("# a comment\n[origin]\nrefspec=testos/buildmain/x86_64-runtime\ncustom-key=1\n"), 0o644)
	p.both("deploy", "--os=testos", "--origin-file="+origin, testRef)
	p.same()

	// Each tool continues on the other's sysroot: swap and go on.
	p.grove, p.ost = p.ost, p.grove
	p.commit("v4", testRef, "1.0.12", sysroottest.Tree{})
	p.both("deploy", "--os=testos", testRef)
	p.same()
	p.both("undeploy", "0")
	p.same()
	p.both("cleanup")
	p.same()
}

// upgrade and switch follow ostree's: local origins, the downgrade guard,
// switching ref deletes the old one.
func TestAdminUpgradeSwitchMatchOstree(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	p.commit("devel", "testos/buildmain/x86_64-devel", "1.0.9", sysroottest.Tree{Files: map[string]string{"usr/include/foo.h": "a development header\n"}})
	p.both("deploy", "--os=testos", testRef)
	if out := p.both("upgrade", "--os=testos"); out != "No update available.\n" {
		t.Fatalf("upgrade printed %q", out)
	}
	v2 := p.commit("v2", testRef, "1.0.10", sysroottest.Tree{Binary: "v2\n"})
	p.both("upgrade", "--os=testos")
	p.same()
	// Pinning an older commit needs --allow-downgrade, with ostree's words;
	// grove leaves the ref alone (ostree moves it first, then refuses, and
	// every later plain upgrade is refused too: undo that on its side).
	v1 := strings.TrimSpace(grove(t, "--repo="+p.src, "rev-parse", testRef+"^"))
	msg := p.failsLikeOstree("upgrade", "--os=testos", "--override-commit="+v1)
	if !strings.Contains(msg, "is chronologically older than current revision") {
		t.Fatalf("downgrade refused with %q", msg)
	}
	repotest.Ostree(t, "--repo="+p.ost+"/ostree/repo", "reset", testRef, v2)
	p.both("upgrade", "--os=testos", "--override-commit="+v1, "--allow-downgrade")
	p.same()
	// A plain upgrade drops the override: back to the ref (now at v1).
	if out := p.both("upgrade", "--os=testos"); out != "No update available.\n" {
		t.Fatalf("upgrade after override printed %q", out)
	}
	p.both("upgrade", "--os=testos", "--override-commit="+v2)
	p.same()
	p.both("switch", "--os=testos", "testos/buildmain/x86_64-devel")
	p.same()
	for _, bin := range []string{groveBin, p.ostreeBin} {
		sr := p.grove
		if bin == p.ostreeBin {
			sr = p.ost
		}
		if _, errOut, err := run(t, nil, bin, "admin", "--sysroot="+sr, "switch", "--os=testos", "testos/buildmain/x86_64-devel"); err == nil ||
			!strings.Contains(errOut, "Old and new refs are equal: testos/buildmain/x86_64-devel") {
			t.Fatalf("%s switch to the same ref: %v %q", filepath.Base(bin), err, errOut)
		}
	}
	// The old ref was deleted from the system repository: fetch it again
	// to switch back (older than devel: switch allows that).
	for _, sr := range []string{p.grove, p.ost} {
		repotest.Ostree(t, "--repo="+sr+"/ostree/repo", "pull-local", p.src, testRef)
	}
	p.both("switch", "--os=testos", testRef)
	p.same()
}

var t0ctx = context.Background()

// rollback (which ostree lacks) swaps the default and the previous
// deployment in one bootloader swap; ostree reads the result, and a second
// rollback returns to where it started.
func TestAdminRollbackOffline(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	p.both("deploy", "--os=testos", testRef)
	if _, errOut, err := run(t, nil, groveBin, "admin", "--sysroot="+p.grove, "rollback"); err == nil ||
		!strings.Contains(errOut, "No rollback deployment found for stateroot 'testos'") {
		t.Fatalf("rollback with one deployment: %v %q", err, errOut)
	}
	p.commit("v2", testRef, "1.0.10", sysroottest.Tree{Binary: "v2\n"})
	p.both("deploy", "--os=testos", testRef)
	start := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status")
	blocks := strings.SplitAfterN(start, "  testos ", 3) // "", first, second
	swapped := "  testos " + blocks[2] + "  testos " + strings.TrimSuffix(blocks[1], "  testos ")

	mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "rollback")
	if got := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status"); got != swapped {
		t.Fatalf("ostree status after rollback:\n%s\nwant\n%s", got, swapped)
	}
	entries, _ := filepath.Glob(filepath.Join(p.grove, "boot/loader/entries/*.conf"))
	if len(entries) != 2 {
		t.Fatalf("entries: %v", entries)
	}
	mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "rollback")
	if got := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status"); got != start {
		t.Fatalf("ostree status after rolling back twice:\n%s\nwant\n%s", got, start)
	}
	// Both tools carry on from a rolled-back sysroot.
	mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "rollback")
	p.commit("v3", testRef, "1.0.11", sysroottest.Tree{Binary: "v3\n"})
	mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "deploy", "--os=testos", testRef)
	got := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "status")
	if want := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status"); got != want || !strings.Contains(got, "Version: 1.0.11") {
		t.Fatalf("after ostree deploy: grove\n%s\nostree\n%s", got, want)
	}
	// The same commit twice: the two entries would be identical, so the
	// rollback only swaps the bootlinks (ostree/boot.N -> boot.N.M).
	mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "deploy", "--os=testos", "--retain", testRef)
	before := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status")
	out := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "rollback")
	if !strings.Contains(out, "Transaction complete; bootconfig swap: no;") {
		t.Fatalf("rollback printed %q", out)
	}
	after := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status")
	if firstLine(after) != strings.Split(before, "\n")[3] || strings.Split(after, "\n")[3] != firstLine(before) {
		t.Fatalf("bootlink swap:\n%s\nbefore:\n%s", after, before)
	}
}

// --dry-run shows the plan and the /etc merge preview (with diffs) and
// changes nothing; the real deploy then does what the preview said.
// status --json carries the same facts as status.
func TestAdminDryRunPreviewAndJSON(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	p.both("deploy", "--os=testos", testRef)
	p.edit("etc/aconfigfile", "locally edited\n")
	p.edit("etc/NetworkManager/nm.conf", "local nm\n")
	p.commit("v2", testRef, "1.0.10", sysroottest.Tree{
		Etc: map[string]string{"NetworkManager/nm.conf": "upstream nm\n", "newfile": "new upstream\n", "testdirectory/test": ""},
	})
	before := snapshot(t, p.grove)
	out := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "deploy", "--os=testos", "--dry-run", testRef)
	if snapshot(t, p.grove) != before {
		t.Fatal("--dry-run changed the sysroot")
	}
	for _, want := range []string{
		"Would deploy testos ", " (version 1.0.10)",
		"/etc merge: 1 kept, 1 added, 1 removed, 0 updated, 1 conflicts",
		"  M- /etc/aconfigfile\n",
		"  MM /etc/NetworkManager/nm.conf\n    local change:\n      --- a/etc/NetworkManager/nm.conf\n",
		"      -a default daemon file\n      +local nm\n",
		"    upstream change:\n", "      +upstream nm\n",
		"  -A /etc/newfile\n", "  -D /etc/testdirectory/\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	p.both("deploy", "--os=testos", testRef)
	p.same()
	etc := filepath.Join(p.deploymentDir(p.grove, 0), "etc")
	for f, want := range map[string]string{"NetworkManager/nm.conf": "local nm\n", "aconfigfile": "locally edited\n", "newfile": "new upstream\n"} {
		if b, _ := os.ReadFile(filepath.Join(etc, f)); string(b) != want {
			t.Errorf("%s = %q, preview promised %q", f, b, want)
		}
	}
	if _, err := os.Stat(filepath.Join(etc, "testdirectory")); !os.IsNotExist(err) {
		t.Errorf("testdirectory should be gone: %v", err)
	}
	js := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "status", "--json")
	for _, want := range []string{`"bootversion": 0`, `"version": "1.0.10"`, `"origin-refspec": "testos/buildmain/x86_64-runtime"`, `"booted": false`} {
		if !strings.Contains(js, want) {
			t.Errorf("json lacks %s:\n%s", want, js)
		}
	}
	if g, o := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "--print-current-dir"),
		mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "--print-current-dir"); g != o {
		t.Errorf("--print-current-dir: grove %q, ostree %q", g, o)
	}
	verbose := mustRun(t, nil, groveBin, "-v", "admin", "--sysroot="+p.grove, "status")
	if !strings.Contains(verbose, "    Boot entry: /boot/loader.0/entries/ostree-2-testos.conf\n") {
		t.Errorf("verbose status:\n%s", verbose)
	}
}

// upgrade from a remote origin pulls first, like ostree's: over HTTP from
// grove serve, and from a file:// URL.
func TestAdminUpgradeFromRemote(t *testing.T) {
	t.Parallel()
	for _, scheme := range []string{"http", "file"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			testUpgradeFromRemote(t, scheme)
		})
	}
}

func testUpgradeFromRemote(t *testing.T, scheme string) {
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	url := "file://" + p.src
	if scheme == "http" {
		url = groveServe(t, p.src)
	}
	for _, sr := range []string{p.grove, p.ost} {
		repotest.Ostree(t, "--repo="+sr+"/ostree/repo", "remote", "add", "--set=gpg-verify=false", "testos", url)
		repotest.Ostree(t, "--repo="+sr+"/ostree/repo", "pull", "testos", testRef)
	}
	p.both("deploy", "--os=testos", "testos:"+testRef)
	p.same()
	// a new commit in the remote only
	dir := filepath.Join(p.dir, "trees", "v2")
	if err := (sysroottest.Tree{Binary: "v2\n"}).Write(dir); err != nil {
		t.Fatal(err)
	}
	grove(t, "--repo="+p.src, "commit", "-b", testRef, "-s", "Build", "--add-metadata-string=version=1.0.10", "--timestamp=@1800000000", dir)
	if out := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "upgrade", "--os=testos", "--dry-run"); !strings.Contains(out, "No update available.") {
		t.Fatalf("dry run (no pull) should see nothing new: %q", out)
	}
	mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "upgrade", "--os=testos", "--pull-only")
	mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.ost, "upgrade", "--os=testos", "--pull-only")
	p.both("upgrade", "--os=testos", "--deploy-only")
	got := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "status")
	if want := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.ost, "status"); got != want || !strings.Contains(got, "Version: 1.0.10") {
		t.Fatalf("grove:\n%s\nostree:\n%s", got, want)
	}
	// The pulled objects may be linked differently; the deployments,
	// entries and refs must not differ.
	a, _ := sysroottest.Manifest(p.ost, skipRepoObjects)
	b, _ := sysroottest.Manifest(p.grove, skipRepoObjects)
	if d := sysroottest.DiffManifests(a, b); d != "" {
		t.Fatalf("sysroots differ:\n%s", d)
	}
}

func skipRepoObjects(rel string) bool {
	return sysroottest.SkipVolatile(rel) || strings.HasPrefix(rel, "ostree/repo/objects") || strings.HasPrefix(rel, "ostree/repo/state")
}
