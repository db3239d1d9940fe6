package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repotest"
)

// TestInitWritesOstreeConfigBytes compares the config grove init writes
// with ostree's, in every mode, with and without a collection ID.
func TestInitWritesOstreeConfigBytes(t *testing.T) {
	repotest.NeedOstree(t)
	for _, args := range [][]string{
		{},
		{"--mode=archive"}, {"--mode=archive-z2"}, {"--mode=bare"}, {"--mode=bare-user"}, {"--mode=bare-user-only"},
		{"--mode=archive", "--collection-id=org.example.Os"},
	} {
		t.Run(strings.Join(append([]string{"init"}, args...), " "), func(t *testing.T) {
			dir := t.TempDir()
			o, g := filepath.Join(dir, "o"), filepath.Join(dir, "g")
			repotest.Ostree(t, append([]string{"--repo=" + o, "init"}, args...)...)
			if out := grove(t, append([]string{"--repo=" + g, "init"}, args...)...); out != "" {
				t.Errorf("grove init printed %q", out)
			}
			want, _ := os.ReadFile(filepath.Join(o, "config"))
			got, err := os.ReadFile(filepath.Join(g, "config"))
			if err != nil || string(got) != string(want) {
				t.Errorf("config:\n%s\nwant:\n%s", got, want)
			}
			for _, sub := range []string{"objects", "refs/heads", "refs/remotes", "tmp", "state", "extensions"} {
				if st, err := os.Stat(filepath.Join(g, sub)); err != nil || !st.IsDir() {
					t.Errorf("%s missing: %v", sub, err)
				}
			}
			repotest.Ostree(t, "--repo="+g, "fsck")
		})
	}
}

// TestInitTwiceKeepsRepository checks that re-running init (even with
// another mode) neither fails nor changes config, refs or objects.
func TestInitTwiceKeepsRepository(t *testing.T) {
	r := filepath.Join(t.TempDir(), "repo")
	src := filepath.Join(t.TempDir(), "src")
	repotest.WriteFile(t, src+"/f", "x", 0o644)
	grove(t, "--repo="+r, "init", "--mode=archive")
	grove(t, "--repo="+r, "commit", "-b", "m", src)
	before := repoSnapshot(t, r)
	cfg, _ := os.ReadFile(filepath.Join(r, "config"))
	grove(t, "--repo="+r, "init", "--mode=archive")
	grove(t, "--repo="+r, "init", "--mode=bare")
	cfg2, _ := os.ReadFile(filepath.Join(r, "config"))
	if after := repoSnapshot(t, r); after != before || string(cfg) != string(cfg2) {
		t.Errorf("re-init changed the repository:\n%s\n%s\nvs\n%s\n%s", before, cfg, after, cfg2)
	}
}

// TestInitRejectsBadArguments checks bad modes and collection IDs.
func TestInitRejectsBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"--mode=zip"},
		{"--collection-id=nodots"},
		{"--collection-id=org.1bad"},
		{"--collection-id=org.ex-ample"},
	} {
		r := filepath.Join(t.TempDir(), "repo")
		_, errOut, err := groveErr(t, append([]string{"--repo=" + r, "init"}, args...)...)
		value := args[0][strings.Index(args[0], "=")+1:]
		if err == nil || !strings.Contains(errOut, value) {
			t.Errorf("init %v: err %v, stderr %q (want a message naming %q)", args, err, errOut, value)
		}
		if _, err := os.Stat(filepath.Join(r, "config")); err == nil {
			t.Errorf("init %v created a repository", args)
		}
	}
}
