package main

import (
	"strings"
	"testing"
)

func TestResetMatchesOstree(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	oRepo, gRepo := t.TempDir()+"/o", t.TempDir()+"/g"
	inspCopyTree(t, f.bareUser, oRepo)
	inspCopyTree(t, f.bareUser, gRepo)
	for _, s := range [][]string{
		{"reset", "main", "main^"}, {"reset", "main", "other/branch"}, // not an ancestor: allowed
		{"reset", "nope", "main"}, {"reset", "main", "nope"}, {"reset", "main"},
	} {
		oOut, oErr, oCode := inspRun(t, "ostree", append([]string{"--repo=" + oRepo}, s...)...)
		gOut, gErr, gCode := inspRun(t, groveBin, append([]string{"--repo=" + gRepo}, s...)...)
		if oOut != gOut || (oCode == 0) != (gCode == 0) || (oCode != 0 && inspLastLine(oErr) != inspLastLine(gErr)) {
			t.Errorf("%v: ostree %d %q %q; grove %d %q %q", s, oCode, oOut, oErr, gCode, gOut, gErr)
		}
		o, _, _ := inspRun(t, "ostree", "--repo="+oRepo, "rev-parse", "main")
		g, _, _ := inspRun(t, "ostree", "--repo="+gRepo, "rev-parse", "main")
		if strings.TrimSpace(o) != strings.TrimSpace(g) {
			t.Errorf("after %v: main is %s with ostree, %s with grove", s, o, g)
		}
	}
}
