package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/groveos/grove/core/demo"
)

var sgr = regexp.MustCompile("\x1b\\[([0-9;:]*)m")

// colourSGRs returns the SGR sequences of s that set a foreground or
// background colour (30–38, 40–48, 90–97, 100–107, incl. 256/true colour).
func colourSGRs(s string) []string {
	var out []string
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			n, _ := strconv.Atoi(p)
			if (n >= 30 && n <= 38) || (n >= 40 && n <= 48) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107) {
				out = append(out, strconv.Quote(m[0]))
				break
			}
		}
	}
	return out
}

// TestTUINoColorRemovesColoursInTmux runs the real binary in a 256-colour,
// truecolor tmux twice, on the Refs and Log screens: with NO_COLOR=1 the
// pane (captured with its escapes) holds no colour at all; without it, it
// does (so the test would notice a capture that drops colours).
func TestTUINoColorRemovesColoursInTmux(t *testing.T) {
	needTmux(t)
	dir := t.TempDir()
	r, err := demo.Build(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, noColor := range []bool{false, true} {
		x := tmux{t, filepath.Join(dir, "tmux-"+strconv.FormatBool(noColor)+".sock")}
		env := []string{"env", "-u", "NO_COLOR", "TERM=xterm-256color", "COLORTERM=truecolor"}
		if noColor {
			env = append(env, "NO_COLOR=1")
		}
		x.run(append([]string{"-2", "new-session", "-d", "-s", "grove", "-x", "120", "-y", "40"},
			append(env, groveBin, "--repo="+r, "tui")...)...)
		t.Cleanup(func() { exec.Command("tmux", "-S", x.sock, "kill-server").Run() })
		x.waitFor("exampleos/x86_64/base", "q quit")
		x.run("send-keys", "-t", "grove", "j", "j", "j", "Enter")
		x.waitFor("Log exampleos/x86_64/base", "Detached metadata")
		pane := x.settled()
		got := colourSGRs(pane)
		switch {
		case noColor && len(got) > 0:
			t.Errorf("NO_COLOR=1: %d colour sequences, e.g. %v\n%s", len(got), got[:min(len(got), 5)], pane)
		case !noColor && len(got) == 0:
			t.Errorf("without NO_COLOR: no colour sequences in the pane:\n%q", pane)
		}
		x.run("send-keys", "-t", "grove", "q")
	}
}
