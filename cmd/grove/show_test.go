package main

import (
	"strings"
	"testing"
)

// inspObjectsOf lists every object checksum `ostree ls -R -C` reports, so that
// show is compared on dirtrees, dirmetas, files and symlinks.
func inspObjectsOf(t *testing.T, repoPath string) []string {
	out, _, _ := inspRun(t, "ostree", "--repo="+repoPath, "ls", "-R", "-C", "main")
	seen := map[string]bool{}
	var sums []string
	for _, line := range strings.Split(out, "\n") {
		for _, w := range strings.Fields(line) {
			if len(w) == 64 && !seen[w] {
				seen[w] = true
				sums = append(sums, w)
			}
		}
	}
	return sums
}

func TestShowMatchesOstree(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	for _, p := range f.all() {
		cases := [][]string{
			{"show", "main"}, {"show", "main^"}, {"show", "other/branch"}, {"show", "--raw", "main"},
			{"show", "-B", "main"}, {"show", "--print-related", "main"},
			{"show", "--print-metadata-key=version", "main"}, {"show", "--print-metadata-key=num", "main"},
			{"show", "--print-metadata-key=arr", "main"}, {"show", "--print-metadata-key=big", "main"},
			{"show", "--print-metadata-key=flag", "main"}, {"show", "-B", "--print-metadata-key=big", "main"},
			{"show", "--print-metadata-key=ostree.ref-binding", "main"},
			{"show", "--print-metadata-key=missing", "main"},
			{"show", "--print-detached-metadata-key=sig", "main"},
			{"show", "--print-detached-metadata-key=note", "main"},
			{"show", "--print-detached-metadata-key=sig", "main^"},
			{"show", "nope"}, {"show", strings.Repeat("0", 64)},
		}
		// A sample of every kind (dirs, files, symlinks) keeps the test fast.
		for i, sum := range inspObjectsOf(t, p) {
			if i%4 == 0 {
				cases = append(cases, []string{"show", sum}, []string{"show", "--raw", sum})
			}
		}
		for _, args := range cases {
			inspCompare(t, p, false, args...)
		}
	}
}
