package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/repotest"
)

// TestTUIWalkTreeFileDiffAndCommitAction drives the real binary in tmux on a
// repository written by the real ostree: refs → log → mark → diff (list and
// content) → tree → file → back → actions → commit form → the new commit
// shows in the log, the refs and the command log → quit.
func TestTUIWalkTreeFileDiffAndCommitAction(t *testing.T) {
	repotest.NeedOstree(t)
	needTmux(t)
	dir := t.TempDir()
	r := filepath.Join(dir, "repo")
	repotest.Ostree(t, "init", "--repo="+r, "--mode=archive")
	src := filepath.Join(dir, "src")
	for i, v := range []string{"1.0", "1.1", "2.0"} {
		repotest.WriteFile(t, filepath.Join(src, "etc", "os-release"), "NAME=ExampleOS\nVERSION="+v+"\n", 0o644)
		repotest.WriteFile(t, filepath.Join(src, "usr", "bin", "tool"), strings.Repeat("\x00\x01tool", 100*(i+1)), 0o755)
		repotest.Ostree(t, "commit", "--repo="+r, "-b", "os/x86_64/stable", "-s", "Release "+v,
			"--add-metadata-string=version="+v, src)
	}
	next := filepath.Join(dir, "next")
	repotest.WriteFile(t, filepath.Join(next, "etc", "os-release"), "NAME=ExampleOS\nVERSION=3.0\n", 0o644)
	repotest.WriteFile(t, filepath.Join(next, "etc", "motd"), "welcome to 3.0\n", 0o644)

	x := tmux{t, filepath.Join(dir, "tmux.sock")}
	x.run("new-session", "-d", "-s", "grove", "-x", "120", "-y", "40",
		"env", "TERM=xterm-256color", "NO_COLOR=1", groveBin, "--repo="+r, "tui")
	t.Cleanup(func() { exec.Command("tmux", "-S", x.sock, "kill-server").Run() })
	keys := func(k ...string) { x.run(append([]string{"send-keys", "-t", "grove"}, k...)...) }
	text := func(s string) { x.run("send-keys", "-t", "grove", "-l", s) }
	// A key right after Escape would read as alt+key: send Escape alone and
	// wait for its effect.
	esc := func(want ...string) {
		keys("Escape")
		x.waitFor(want...)
	}

	x.waitFor("os/x86_64/stable", "Release 2.0")
	keys("Enter")
	x.waitFor("Log os/x86_64/stable (3)", "Release 1.0")

	// Mark the head, diff it against Release 1.0.
	keys("m")
	x.waitFor("● Release 2.0")
	keys("j", "j", "d")
	x.waitFor("Diff ", "A 0  M 2  D 0", "/etc/os-release", "/usr/bin/tool")
	keys("Enter")
	x.waitFor("--- a/etc/os-release", "@@ -1,2 +1,2 @@", "-VERSION=2.0", "+VERSION=1.0")
	esc("A 0  M 2  D 0")
	keys("j", "Enter")
	x.waitFor("Binary files differ")
	esc("A 0  M 2  D 0")
	esc("COMMIT     VERSION", "Release 1.0")

	// Tree of Release 1.0, then a file.
	keys("Enter")
	x.waitFor("Tree ", "NAME  /", "etc/", "usr/", "d00755")
	keys("Enter")
	x.waitFor("NAME  /etc", "os-release", "-00644")
	keys("Enter")
	x.waitFor("/etc/os-release  -00644", "1  NAME=ExampleOS", "2  VERSION=1.0", "27 bytes  text")
	esc("NAME  /etc", "Checksum")

	// Actions → commit a directory onto the branch.
	keys("a")
	x.waitFor("Commit a directory or tarball", "Fsck")
	keys("1")
	x.waitFor("Directory or tarball")
	text(next)
	keys("Tab")
	text("os/x86_64/stable")
	keys("Tab")
	text("Release 3.0")
	keys("Tab", "Tab")
	text("3.0")
	x.waitFor("$ grove --repo=" + r + " commit --branch=os/x86_64/stable")
	keys("Enter")
	x.waitFor("NAME  /etc") // the form closed, back on the tree
	esc("Path     /etc/", "Dirtree")
	esc("Log os/x86_64/stable (4)", "Release 3.0")
	esc("KIND", "Release 3.0")
	keys("L")
	x.waitFor("command log", "✓ grove --repo="+r+" commit --branch=os/x86_64/stable")

	// The commit is real: ostree sees it.
	if out := repotest.Ostree(t, "log", "--repo="+r, "os/x86_64/stable"); !strings.Contains(out, "Release 3.0") || !strings.Contains(out, "Version: 3.0") {
		t.Fatalf("ostree log:\n%s", out)
	}
	repotest.Ostree(t, "fsck", "--repo="+r)

	keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := exec.Command("tmux", "-S", x.sock, "list-panes", "-t", "grove", "-F", "#{pane_dead}").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("grove did not quit on q:\n%s", x.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
