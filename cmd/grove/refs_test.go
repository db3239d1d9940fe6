package main

import "testing"

func TestRefsListingMatchesOstree(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	for _, p := range f.all() {
		for _, args := range [][]string{
			{"refs"}, {"refs", "--list"}, {"refs", "other"}, {"refs", "--list", "other"}, {"refs", "main"},
			{"refs", "origin:"}, {"refs", "origin"}, {"refs", "--list", "origin:remote"}, {"refs", "origin:remote"},
			{"refs", "--alias"}, {"refs", "nope"}, {"refs", "main", "other"},
		} {
			inspCompare(t, p, true, args...) // ostree prints in hash order
		}
	}
}

// Mutating refs runs on two copies, one per tool, and compares the
// resulting listings as well as each command's outcome.
func TestRefsCreateDeleteMatchesOstree(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	steps := [][]string{
		{"refs", "--create=newref", "main^"}, {"refs", "--create=newref", "main"},
		{"refs", "--create=newref", "--force", "main"}, {"refs", "--create=r2:x/y", "main"},
		{"refs", "--create=al2", "--alias", "main"}, {"refs", "--create=al3", "--alias", "nope"},
		{"refs", "--create=r:al", "--alias", "main"}, {"refs", "--create=al2", "--alias", "other/branch"},
		{"refs", "--delete", "main"}, {"refs", "--delete", "newref"}, {"refs", "--delete", "r2:"},
		{"refs", "--delete"}, {"refs", "--create=x"}, {"refs", "--create=x", "a", "b"},
		{"refs", "--delete", "al2"},
	}
	oRepo, gRepo := t.TempDir()+"/o", t.TempDir()+"/g"
	inspCopyTree(t, f.archive, oRepo)
	inspCopyTree(t, f.archive, gRepo)
	for _, s := range steps {
		oOut, oErr, oCode := inspRun(t, "ostree", append([]string{"--repo=" + oRepo}, s...)...)
		gOut, gErr, gCode := inspRun(t, groveBin, append([]string{"--repo=" + gRepo}, s...)...)
		if oOut != gOut || (oCode == 0) != (gCode == 0) || (oCode != 0 && inspLastLine(oErr) != inspLastLine(gErr)) {
			t.Errorf("%v: ostree %d %q %q; grove %d %q %q", s, oCode, oOut, oErr, gCode, gOut, gErr)
		}
		for _, l := range [][]string{{"refs"}, {"refs", "--alias"}} {
			o, _, _ := inspRun(t, "ostree", append([]string{"--repo=" + oRepo}, l...)...)
			g, _, _ := inspRun(t, "ostree", append([]string{"--repo=" + gRepo}, l...)...)
			if inspSortLines(o) != inspSortLines(g) {
				t.Errorf("after %v, %v: ostree repo\n%s\ngrove repo\n%s", s, l, o, g)
			}
		}
	}
}
