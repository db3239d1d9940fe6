package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/sysroottest"
)

// TestAdminKilledAtRandomMoments kills grove admin deploy, undeploy,
// rollback and cleanup with SIGKILL at random moments. Every time,
// ostree and grove must read the sysroot the same, boot/loader must name a
// complete loader.N whose entries lead to complete deployments, the system
// repository must pass ostree fsck, and both tools must carry on.
// GROVE_KILL_SEED replays a run.
func TestAdminKilledAtRandomMoments(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test is slow")
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("GROVE_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("GROVE_KILL_SEED=%d", seed)
	rng := rand.New(rand.NewSource(seed))

	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	p.both("deploy", "--os=testos", testRef)
	p.edit("etc/aconfigfile", "edited\n")
	files := map[string]string{}
	for i := 0; i < 300; i++ {
		files[fmt.Sprintf("usr/share/data/d%d/f%03d", i%10, i)] = strings.Repeat(fmt.Sprintf("%d ", i), 50)
	}
	p.commit("v2", testRef, "1.0.10", sysroottest.Tree{Binary: "v2\n", Files: files})
	p.both("deploy", "--os=testos", testRef)
	p.commit("v3", testRef, "1.0.11", sysroottest.Tree{Kernel: "kernel 3\n", Files: files})
	base := p.grove
	// cleanupBase has garbage to clean: a deploy without pruning, then an
	// undeploy without its final cleanup is what a kill leaves; here a
	// deploy --no-prune keeps the dropped deployment's objects.
	cleanupBase := filepath.Join(p.dir, "cleanup-base")
	cloneRepoForCrash(t, base, cleanupBase)
	mustRun(t, nil, groveBin, "admin", "--sysroot="+cleanupBase, "deploy", "--os=testos", "--no-prune", testRef)

	type op struct {
		name string
		from string
		args []string
		dur  time.Duration
	}
	ops := []*op{
		{name: "deploy", from: base, args: []string{"deploy", "--os=testos", testRef}},
		{name: "undeploy", from: base, args: []string{"undeploy", "1"}},
		{name: "rollback", from: base, args: []string{"rollback"}},
		{name: "cleanup", from: cleanupBase, args: []string{"cleanup"}},
	}
	for i, o := range ops {
		dir := filepath.Join(p.dir, fmt.Sprintf("probe%d", i))
		cloneRepoForCrash(t, o.from, dir)
		start := time.Now()
		mustRun(t, nil, groveBin, append([]string{"admin", "--sysroot=" + dir}, o.args...)...)
		o.dur = time.Since(start)
		t.Logf("%s takes %v", o.name, o.dur)
		os.RemoveAll(dir)
	}
	kills := 8
	if s := os.Getenv("GROVE_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	outcome := map[string]int{} // did the kill land before or after the switch?
	defer func() { t.Logf("outcomes: %v", outcome) }()
	for i := 0; i < kills; i++ {
		o := ops[i%len(ops)]
		dir := filepath.Join(p.dir, fmt.Sprintf("run%02d", i))
		cloneRepoForCrash(t, o.from, dir)
		delay := time.Duration(rng.Int63n(int64(o.dur) * 12 / 10))
		cmd := exec.Command(groveBin, append([]string{"admin", "--sysroot=" + dir}, o.args...)...)
		cmd.Env = append(os.Environ(), adminEnv...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		what := fmt.Sprintf("kill %d (%s after %v, seed %d)", i, o.name, delay, seed)
		after := checkSysroot(t, p, dir, what)
		if after == statusOf(t, o.from) {
			outcome[o.name+": before"]++
		} else {
			outcome[o.name+": after"]++
		}
		// Both tools carry on: grove cleans up, ostree deploys.
		mustRun(t, nil, groveBin, "admin", "--sysroot="+dir, "cleanup")
		checkSysroot(t, p, dir, what+", then cleanup")
		if i%4 == 0 {
			mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+dir, "deploy", "--os=testos", testRef)
			checkSysroot(t, p, dir, what+", then ostree deploy")
		}
		os.RemoveAll(dir)
	}
}

func statusOf(t *testing.T, dir string) string {
	return mustRun(t, nil, groveBin, "admin", "--sysroot="+dir, "status")
}

// checkSysroot is what must hold after any crash; it returns the status.
func checkSysroot(t *testing.T, p *pair, dir, what string) string {
	t.Helper()
	o, oerr, err := run(t, nil, p.ostreeBin, "admin", "--sysroot="+dir, "status")
	if err != nil {
		t.Fatalf("%s: ostree admin status: %v\n%s", what, err, oerr)
	}
	g, gerr, err := run(t, nil, groveBin, "admin", "--sysroot="+dir, "status")
	if err != nil {
		t.Fatalf("%s: grove admin status: %v\n%s", what, err, gerr)
	}
	if o != g {
		t.Fatalf("%s: statuses differ:\nostree\n%s\ngrove\n%s", what, o, g)
	}
	target, err := os.Readlink(filepath.Join(dir, "boot/loader"))
	if err != nil || (target != "loader.0" && target != "loader.1") {
		t.Fatalf("%s: boot/loader -> %q (%v)", what, target, err)
	}
	s, err := sysroot.Open(t0ctx, dir, sysroot.Options{})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(s.Deployments()) == 0 {
		t.Fatalf("%s: no deployments left", what)
	}
	for _, d := range s.Deployments() {
		root := filepath.Join(dir, d.Dir())
		for _, f := range []string{"usr/lib/modules/3.6.0/vmlinuz", "usr/bin/sh", "etc/os-release", "usr/etc/os-release"} {
			if _, err := os.Stat(filepath.Join(root, f)); err != nil {
				t.Fatalf("%s: deployment %s incomplete: %v", what, d.Name(), err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, d.OriginPath())); err != nil {
			t.Fatalf("%s: deployment %s has no origin: %v", what, d.Name(), err)
		}
		for _, key := range []string{"linux", "initrd"} {
			if _, err := os.Stat(filepath.Join(dir, "boot", d.Boot.Value(key))); err != nil {
				t.Fatalf("%s: %s %s missing: %v", what, key, d.Boot.Value(key), err)
			}
		}
	}
	if out, err := repotest.OstreeErr(t, "--repo="+dir+"/ostree/repo", "fsck", "--quiet"); err != nil {
		t.Fatalf("%s: ostree fsck: %v\n%s", what, err, out)
	}
	return g
}
