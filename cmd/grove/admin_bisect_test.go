package main

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/groveos/grove/core/bisect/bisecttest"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/sysroottest"
)

// osFiles are the files of a deployable fake OS tree (kernel, usr/etc,
// …) plus the checker.
func osFiles(t *testing.T) map[string][]byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	if err := (sysroottest.Tree{}).Write(dir); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{bisecttest.CheckerPath: bisecttest.Checker(t)}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err // symlinks (bin -> usr/bin) are not needed
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var deployedRe = regexp.MustCompile(`(?m)^Deployed ([0-9a-f]{64})\.(\d+) as the next boot deployment`)

// adminBisectSysroot makes a test sysroot (stateroot testos) whose
// system repository holds only its two deployments, deployed by the real
// ostree: the history's first commit (rollback) and its last (default,
// origin:testos/stable), from a remote "origin" that grove serve serves
// the whole history from. It returns the sysroot and a function that
// runs ostree admin status.
func adminBisectSysroot(t *testing.T, n, k int, untestable []int) (string, *bisecttest.History, func() string) {
	t.Helper()
	repotest.NeedOstree(t)
	ctx := context.Background()
	dir := t.TempDir()
	up, err := repo.Create(ctx, filepath.Join(dir, "upstream"), repo.CreateOptions{Mode: repo.ModeArchive})
	if err != nil {
		t.Fatal(err)
	}
	h, err := bisecttest.Build(ctx, up, bisecttest.Options{N: n, K: k, Untestable: untestable, Prefix: bisecttest.OSPrefix, Ref: "testos/stable", Files: osFiles(t)})
	if err != nil {
		t.Fatal(err)
	}
	grove(t, "--repo="+up.Path(), "summary", "-u")
	url := groveServe(t, up.Path())

	sys := filepath.Join(dir, "sysroot")
	if err := sysroottest.NewSysroot(ctx, sys, "testos"); err != nil {
		t.Fatal(err)
	}
	sysRepo := "--repo=" + filepath.Join(sys, "ostree", "repo")
	// The admin environment: no immutable bits, so the test's temporary
	// directory can go.
	ostree := func(args ...string) string { t.Helper(); return mustRun(t, nil, "ostree", args...) }
	ostree(sysRepo, "remote", "add", "--no-gpg-verify", "origin", url)
	ostree(sysRepo, "pull", "origin", h.Commits[0].String())
	ostree("admin", "deploy", "--sysroot="+sys, "--os=testos", h.Commits[0].String())
	ostree(sysRepo, "pull", "--depth=0", "origin", "testos/stable")
	ostree("admin", "deploy", "--sysroot="+sys, "--os=testos", "origin:testos/stable")
	status := func() string { t.Helper(); return ostree("admin", "status", "--sysroot="+sys) }
	st := status()
	if !strings.Contains(st, h.Commits[n-1].String()) || !strings.Contains(st, h.Commits[0].String()) {
		t.Fatalf("status:\n%s", st)
	}
	return sys, h, status
}

// TestAdminBisectDeploy is the proof of admin bisect --deploy on a test
// sysroot whose system repository holds only its two deployments: the
// real ostree deploys the good commit, then the bad one, from a remote
// served by grove serve; grove admin bisect start --deploy takes them as
// the endpoints, fetches the history between them from the origin remote
// as commit objects, and deploys each candidate as the next boot
// deployment (its tree fetched then). Each "reboot" runs the checker
// inside the deployed tree, whose verdict is the mark. The bisect names
// commit k, and ostree admin status is identical before and after.
func TestAdminBisectDeploy(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(bisectSeed(t), 4))
	const n = 40
	k := 1 + rng.IntN(n-1)
	untestable := sprinkle(rng, n, k)
	sys, h, status := adminBisectSysroot(t, n, k, untestable)
	before := status()
	admin := func(args ...string) string {
		t.Helper()
		return mustRun(t, nil, groveBin, append([]string{"admin", "--sysroot=" + sys, "--os=testos", "bisect"}, args...)...)
	}
	out := admin("start", "--deploy")
	steps := 0
	for !strings.Contains(out, "is the first bad commit") {
		if steps++; steps > 20 {
			t.Fatalf("no end after %d steps:\n%s", steps, out)
		}
		m := deployedRe.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no candidate deployed:\n%s", out)
		}
		cand := oid.MustParse(m[1])
		st := status()
		if first := strings.SplitN(st, "\n", 2)[0]; !strings.Contains(first, m[1]+"."+m[2]) {
			t.Fatalf("the candidate is not the default deployment:\n%s", st)
		}
		if strings.Count(st, "Pinned: yes") != 2 {
			t.Errorf("the endpoints are not pinned while bisecting:\n%s", st)
		}
		// "Reboot" and test: the checker inside the deployed tree.
		root := filepath.Join(sys, "ostree", "deploy", "testos", "deploy", m[1]+"."+m[2])
		cmd := exec.Command(filepath.Join(root, bisecttest.CheckerPath))
		cmd.Env = append(os.Environ(), "GROVE_BISECT_ROOT="+root)
		word := "good"
		if err := cmd.Run(); err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				t.Fatal(err)
			}
			word = map[int]string{1: "bad", 125: "skip"}[ee.ExitCode()]
		}
		i := h.Index(cand)
		if want := map[bool]string{true: "bad", false: "good"}[i >= k]; slicesContains(untestable, i) && word != "skip" || !slicesContains(untestable, i) && word != want {
			t.Fatalf("deployment of #%d says %s", i, word)
		}
		out = admin(word)
	}
	if m := firstBadRe.FindStringSubmatch(out); m == nil || m[1] != h.Commits[k].String() {
		t.Fatalf("first bad %v, want #%d:\n%s", m, k, out)
	}
	if !strings.Contains(out, "Deployments put back:") {
		t.Errorf("no word of putting the deployments back:\n%s", out)
	}
	if after := status(); after != before {
		t.Errorf("ostree admin status changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	admin("reset")
	if after := status(); after != before {
		t.Errorf("ostree admin status changed by reset:\n%s", after)
	}
	if _, err := os.Stat(filepath.Join(sys, "ostree", "repo", "state", "bisect")); !os.IsNotExist(err) {
		t.Errorf("reset left the state: %v", err)
	}
	t.Logf("k=%d found in %d reboots", k, steps)
}

// TestAdminBisectRun: without --deploy the sysroot's deployments are only
// the endpoints; bisect run tests candidates in scratch checkouts of the
// system repository (fetched from the origin remote), and the
// deployments never change. Bad input: no rollback deployment.
func TestAdminBisectRun(t *testing.T) {
	t.Parallel()
	const n, k = 60, 41
	sys, h, status := adminBisectSysroot(t, n, k, []int{30})
	before := status()
	admin := func(args ...string) (string, string, error) {
		t.Helper()
		return run(t, nil, groveBin, append([]string{"admin", "--sysroot=" + sys, "--os=testos", "bisect"}, args...)...)
	}
	if out, errOut, err := admin("start"); err != nil || !strings.Contains(out, "Bisecting: ") {
		t.Fatalf("start: %v %s %s", err, out, errOut)
	}
	out, errOut, err := admin("run", "bisect-check")
	if err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, out, errOut)
	}
	if m := firstBadRe.FindStringSubmatch(out); m == nil || m[1] != h.Commits[k].String() {
		t.Errorf("first bad %v, want #%d", m, k)
	}
	if after := status(); after != before {
		t.Errorf("status changed:\n%s", after)
	}
	if out, _, err := admin("log"); err != nil || !strings.Contains(out, "grove bisect start --remote=origin ") {
		t.Errorf("log: %v\n%s", err, out)
	}
	admin("reset")
	// Bad input: a stateroot with one deployment has no rollback to call
	// good; a good that is not an ancestor is refused before the sysroot
	// changes.
	mustRun(t, nil, "ostree", "admin", "undeploy", "--sysroot="+sys, "1")
	one := status()
	if _, errOut, err := admin("start", "--deploy"); err == nil || !strings.Contains(errOut, "no rollback deployment: give --good=REV") {
		t.Errorf("one deployment: %v %s", err, errOut)
	}
	if _, errOut, err := admin("start", "--deploy", "--good="+h.Commits[n-1].String(), "--bad="+h.Commits[3].String()); err == nil || !strings.Contains(errOut, "not an ancestor") {
		t.Errorf("good after bad: %v %s", err, errOut)
	}
	if after := status(); after != one {
		t.Errorf("a refused start changed the deployments:\n%s", after)
	}
}

// bootedAt plays a machine booted into the deployment at index of sys,
// as the admin tests' bootInto does: the sysroot reached through the
// deployment directory, GROVE_ADMIN_ROOT naming it as "/", a run
// directory with ostree-booted. It returns the --sysroot argument and the
// environment.
func bootedAt(t *testing.T, sys string, index int) (string, []string) {
	t.Helper()
	s, err := sysroot.Open(context.Background(), sys, sysroot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dep := filepath.Join(sys, s.Deployments()[index].Dir())
	for name, target := range map[string]string{"ostree": "../../../..", "boot": "../../../../../boot", "var": "../../var"} {
		link := filepath.Join(dep, name)
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	run := filepath.Join(filepath.Dir(sys), "run")
	os.MkdirAll(run, 0o755)
	if err := os.WriteFile(filepath.Join(run, "ostree-booted"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return "--sysroot=" + dep, []string{"GROVE_ADMIN_ROOT=" + dep, "GROVE_ADMIN_RUN=" + run}
}

// TestAdminBisectBooted walks admin bisect --deploy on a simulated booted
// machine, rebooting into each candidate: the booted candidate cannot be
// undeployed, so it stays (last) while the next one is staged, and after
// the end until the machine boots the original default again; then reset
// takes it away and the deployments are as they were.
func TestAdminBisectBooted(t *testing.T) {
	t.Parallel()
	const n, k = 24, 9
	sys, h, status := adminBisectSysroot(t, n, k, nil)
	before := status()
	sysArg, env := bootedAt(t, sys, 0) // running the bad default
	admin := func(args ...string) string {
		t.Helper()
		return mustRun(t, env, groveBin, append([]string{"admin", sysArg, "--os=testos", "bisect"}, args...)...)
	}
	out := admin("start", "--deploy")
	for steps := 0; !strings.Contains(out, "is the first bad commit"); steps++ {
		if steps > 10 {
			t.Fatalf("no end:\n%s", out)
		}
		m := deployedRe.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no candidate deployed:\n%s", out)
		}
		sysArg, env = bootedAt(t, sys, 0) // reboot into the candidate
		word := "good"
		if h.Index(oid.MustParse(m[1])) >= k {
			word = "bad"
		}
		out = admin(word)
	}
	if m := firstBadRe.FindStringSubmatch(out); m == nil || m[1] != h.Commits[k].String() {
		t.Fatalf("first bad %v, want #%d", m, k)
	}
	if !strings.Contains(out, "stays until the machine boots another deployment") {
		t.Errorf("the booted candidate is not mentioned:\n%s", out)
	}
	after := status()
	if !strings.HasPrefix(after, before[:strings.Index(before, "\n")]) {
		t.Errorf("the original default is not first again:\n%s", after)
	}
	// Reboot into the original default, then reset.
	sysArg, env = bootedAt(t, sys, 0)
	admin("reset")
	if got := status(); got != before {
		t.Errorf("status after reset:\n%s\nwant\n%s", got, before)
	}
}
