package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/repotest"
)

// needTmux fails under CI (which installs tmux) and skips elsewhere.
func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is required in CI")
		}
		t.Skip("tmux not installed")
	}
}

type tmux struct {
	t    *testing.T
	sock string
}

func (x tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", x.sock}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (x tmux) screen() string { return x.run("capture-pane", "-p", "-t", "grove") }

// waitFor polls the pane until it shows every want, failing with the pane.
func (x tmux) waitFor(want ...string) string {
	x.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := x.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("screen never showed %q:\n%s", want, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settled captures the pane (with colours) once two captures 50 ms apart
// agree: the last frame has landed.
func (x tmux) settled() string {
	x.t.Helper()
	prev := x.run("capture-pane", "-e", "-p", "-t", "grove")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		cur := x.run("capture-pane", "-e", "-p", "-t", "grove")
		if cur == prev {
			return cur
		}
		prev = cur
	}
	x.t.Fatalf("the pane never settled:\n%s", prev)
	return ""
}

// TestTUIInTmuxOnOstreeRepo drives the real binary in a 120x40 tmux pane on a
// repository written by the real ostree: refs → log → back → help → quit.
func TestTUIInTmuxOnOstreeRepo(t *testing.T) {
	repotest.NeedOstree(t)
	needTmux(t)
	dir := t.TempDir()
	r := filepath.Join(dir, "repo")
	repotest.Ostree(t, "init", "--repo="+r, "--mode=archive")
	src := filepath.Join(dir, "src")
	for i, v := range []string{"1.0", "1.1", "2.0"} {
		repotest.WriteFile(t, filepath.Join(src, "etc", "os-release"), "VERSION="+v+"\n", 0o644)
		repotest.WriteFile(t, filepath.Join(src, "usr", "bin", "tool"), strings.Repeat("x", 100*(i+1)), 0o755)
		repotest.Ostree(t, "commit", "--repo="+r, "-b", "os/x86_64/stable", "-s", "Release "+v,
			"--add-metadata-string=version="+v, src)
	}
	repotest.Ostree(t, "commit", "--repo="+r, "-b", "os/x86_64/devel", "-s", "Devel snapshot", src)

	x := tmux{t, filepath.Join(dir, "tmux.sock")}
	x.run("new-session", "-d", "-s", "grove", "-x", "120", "-y", "40",
		"env", "TERM=xterm-256color", groveBin, "--repo="+r, "tui")
	t.Cleanup(func() { exec.Command("tmux", "-S", x.sock, "kill-server").Run() })

	x.waitFor("os/x86_64/stable", "os/x86_64/devel", "Release 2.0", "q quit")
	x.run("send-keys", "-t", "grove", "/", "s", "t", "a", "b", "Enter", "Enter")
	s := x.waitFor("Log os/x86_64/stable (3)", "Release 1.0", "version: '2.0'", "Detached metadata")
	if !strings.Contains(s, "(none: root commit)") && !strings.Contains(s, "Parent") {
		t.Errorf("no parent line:\n%s", s)
	}
	x.run("send-keys", "-t", "grove", "Escape")
	// Wait until the log is gone, or the next key would reach the terminal
	// glued to ESC and read as alt+key.
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(x.screen(), "Log os/") {
		if time.Now().After(deadline) {
			t.Fatalf("esc did not go back:\n%s", x.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	x.waitFor("os/x86_64/stable", "filter: stab")
	x.run("send-keys", "-t", "grove", "?")
	x.waitFor("command log", "page down")
	x.run("send-keys", "-t", "grove", "q")
	deadline = time.Now().Add(5 * time.Second)
	for {
		out, err := exec.Command("tmux", "-S", x.sock, "list-panes", "-t", "grove", "-F", "#{pane_dead}").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) == "1" {
			break // session gone: grove exited
		}
		if time.Now().After(deadline) {
			t.Fatalf("grove did not quit on q:\n%s", x.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTUIMissingRepoIsAClearError(t *testing.T) {
	_, stderr, err := groveErr(t, "--repo="+filepath.Join(t.TempDir(), "nope"), "tui")
	if err == nil || !strings.Contains(stderr, "cannot open repository") || strings.Contains(stderr, "goroutine") {
		t.Fatalf("err %v, stderr %q", err, stderr)
	}
}
