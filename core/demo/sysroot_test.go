package demo

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/admin"
)

// The demo sysroot: three deployments, the oldest pinned, local /etc
// edits in the default one, an upgrade waiting whose /etc preview has a
// conflict; ostree reads it as grove does.
func TestBuildSysroot(t *testing.T) {
	ctx := context.Background()
	var lines int
	path, err := BuildSysroot(ctx, t.TempDir(), func(string) { lines++ })
	if err != nil {
		t.Fatal(err)
	}
	s, err := sysroot.Open(ctx, path, sysroot.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds := s.Deployments()
	if len(ds) != 3 || lines == 0 {
		t.Fatalf("%d deployments, %d progress lines", len(ds), lines)
	}
	if !ds[2].Pinned() || ds[0].Pinned() || ds[1].Pinned() {
		t.Fatal("want the oldest deployment pinned")
	}
	var diff strings.Builder
	if err := admin.ConfigDiff(ctx, s, ds[0], &diff, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"M    aconfigfile", "M    NetworkManager/nm.conf", "D    testdirectory", "A    hostname"} {
		if !strings.Contains(diff.String(), want) {
			t.Errorf("config-diff lacks %q:\n%s", want, diff.String())
		}
	}
	res, err := admin.Upgrade(ctx, s, admin.UpgradeOptions{Stateroot: SysrootStateroot, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Plan == nil || res.Plan.Etc == nil || len(res.Plan.Etc.Conflicts) != 1 || res.Plan.Etc.Conflicts[0].Path != "NetworkManager/nm.conf" {
		t.Fatalf("upgrade plan %+v", res.Plan)
	}
	bin := repotest.NeedOstree(t)
	out, err := exec.Command(bin, "admin", "--sysroot="+path, "status").CombinedOutput()
	if err != nil || strings.Count(string(out), "Pinned: yes") != 1 || strings.Count(string(out), "  exampleos ") != 3 {
		t.Fatalf("ostree admin status: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "--repo="+filepath.Join(path, "ostree/repo"), "fsck", "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("ostree fsck: %v\n%s", err, out)
	}
}
