package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/groveos/grove/core/repotest"
)

// TestRemoteMatchesOstree runs the same remote commands through ostree
// and grove on twin repositories: same output, same exit status and error
// line, and after each command the same config bytes.
func TestRemoteMatchesOstree(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	dir := t.TempDir()
	oRepo, gRepo := dir+"/o", dir+"/g"
	repotest.Ostree(t, "--repo="+oRepo, "init", "--mode=archive")
	grove(t, "--repo="+gRepo, "init", "--mode=archive")
	for _, s := range [][]string{
		{"remote", "add", "--set=gpg-verify=false", "--set=tls-permissive=true", "origin", "http://example.com/repo", "a/b", "c"},
		{"remote", "add", "--no-gpg-verify", "--contenturl=http://c.example.com", "o2", "mirrorlist=http://m.example.com/list"},
		{"remote", "add", "--set=x= a b;c", "o3", "file:///tmp/x y"},
		{"remote", "add", "--set=gpg-verify=true", "--no-gpg-verify", "o4", "https://example.org/"},
		{"remote", "add", "origin", "http://elsewhere"},
		{"remote", "add", "--if-not-exists", "origin", "http://elsewhere"},
		{"remote", "add", "--force", "o4", "https://example.net/", "x"},
		{"remote", "add", "bad/name", "http://x"},
		{"remote", "add", "onlyname"},
		{"remote", "list"},
		{"remote", "list", "-u"},
		{"remote", "show-url", "o2"},
		{"remote", "show-url", "nope"},
		{"remote", "delete", "nope"},
		{"remote", "delete", "--if-exists", "nope"},
		{"remote", "delete", "o3"},
		{"remote", "list", "-u"},
	} {
		oOut, oErr, oCode := inspRun(t, "ostree", append([]string{"--repo=" + oRepo}, s...)...)
		gOut, gErr, gCode := inspRun(t, groveBin, append([]string{"--repo=" + gRepo}, s...)...)
		if oOut != gOut || (oCode == 0) != (gCode == 0) || (oCode != 0 && inspLastLine(oErr) != inspLastLine(gErr)) {
			t.Errorf("%v: ostree %d %q %q; grove %d %q %q", s, oCode, oOut, oErr, gCode, gOut, gErr)
		}
		oc, _ := os.ReadFile(oRepo + "/config")
		gc, _ := os.ReadFile(gRepo + "/config")
		if string(oc) != string(gc) {
			t.Errorf("after %v config differs:\nostree:\n%s\ngrove:\n%s", s, oc, gc)
		}
	}
}

// TestRemoteSysroot: with --sysroot on a sysroot that is not the booted
// system, remotes go to the sysroot repository's config, as ostree puts
// them, byte for byte.
func TestRemoteSysroot(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	var configs []string
	for _, tool := range []string{"ostree", groveBin} {
		sys := t.TempDir()
		repotest.Ostree(t, "admin", "init-fs", sys)
		if _, errOut, code := inspRun(t, tool, "remote", "add", "--sysroot="+sys, "--no-gpg-verify", "fedora", "https://example.com/os", "os/stable"); code != 0 {
			t.Fatalf("%s remote add --sysroot: %s", tool, errOut)
		}
		if _, errOut, code := inspRun(t, tool, "remote", "add", "--sysroot="+sys, "fedora", "https://x"); code == 0 || inspLastLine(errOut) != `error: Remote configuration for "fedora" already exists: (in config)` {
			t.Errorf("%s: duplicate: %d %q", tool, code, errOut)
		}
		c, err := os.ReadFile(filepath.Join(sys, "ostree/repo/config"))
		if err != nil {
			t.Fatal(err)
		}
		configs = append(configs, string(c))
		if _, errOut, code := inspRun(t, tool, "remote", "delete", "--sysroot="+sys, "fedora"); code != 0 {
			t.Fatalf("%s remote delete --sysroot: %s", tool, errOut)
		}
	}
	if configs[0] != configs[1] {
		t.Errorf("ostree wrote\n%s\ngrove wrote\n%s", configs[0], configs[1])
	}
}
