package main

import (
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/progress"
)

func TestProgressBarDrawsAndClears(t *testing.T) {
	var out strings.Builder
	b := &bar{w: &out, title: "pull", width: 100, start: time.Now().Add(-2 * time.Second)}
	b.draw(progress.Event{Phase: "fetching", Done: 5, Total: 10, Bytes: 4000})
	got := out.String()
	for _, want := range []string{"\r\x1b[K", "pull: fetching", "[##########          ] 5/10", "4.0\u00a0kB", "/s)"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar %q lacks %q", got, want)
		}
	}
	out.Reset()
	b.draw(progress.Event{Phase: strings.Repeat("x", 100)})
	if line := strings.TrimPrefix(out.String(), "\r\x1b[K"); len(line) >= 100 {
		t.Errorf("line not cut to the terminal width: %d runes", len(line))
	}
	out.Reset()
	b.clear()
	b.clear()
	if out.String() != "\r\x1b[K" {
		t.Errorf("clear wrote %q", out.String())
	}
}

// Piped, the CLI draws nothing: its output stays ostree's.
func TestProgressBarSilentWhenPiped(t *testing.T) {
	dir := t.TempDir()
	grove(t, "--repo="+dir+"/repo", "init", "--mode=archive")
	_, stderr, err := groveErr(t, "--repo="+dir+"/repo", "commit", "-b", "x", "--tree=dir=.")
	if err != nil || stderr != "" {
		t.Fatalf("commit: %v, stderr %q", err, stderr)
	}
}
