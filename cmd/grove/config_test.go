package main

import (
	"os"
	"testing"
)

func TestConfigMatchesOstree(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	oRepo, gRepo := t.TempDir()+"/o", t.TempDir()+"/g"
	inspCopyTree(t, f.archive, oRepo)
	inspCopyTree(t, f.archive, gRepo)
	for _, s := range [][]string{
		{"config", "get", "core.mode"}, {"config", "get", "core.nope"}, {"config", "get", "nope.x"},
		{"config", "get", "nodot"}, {"config", "set", `remote "x".url`, "http://example.com/repo"},
		{"config", "get", `remote "x".url`}, {"config", "--group=remote \"x\"", "get", "url"},
		{"config", "set", "core.min-free-space-percent", "0"}, {"config", "--group=core", "set", "k", "v w"},
		{"config", "unset", `remote "x".url`}, {"config", "unset", `remote "x".url`},
		{"config", "--group=core", "unset", "k"}, {"config", "bogus", "x"}, {"config"},
		{"config", "get", "a.b", "c"}, {"config", "set", "core.x"},
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
