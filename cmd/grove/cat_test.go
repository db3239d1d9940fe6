package main

import "testing"

func TestCatMatchesOstree(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	for _, p := range f.all() {
		for _, args := range [][]string{
			{"cat", "main", "/small.txt"}, {"cat", "main", "big.bin", "/empty", "/etc/os-release"},
			{"cat", "main", "/usr/bin/relative-link"}, {"cat", "main", "/usr/bin/absolute-link"},
			{"cat", "main", "/bin/tool"}, {"cat", "main", "/usr/share/doc/naïve café/日本語.txt"},
			{"cat", "main", "/usr"}, {"cat", "main", "/nope"}, {"cat", "main", "/dangling"},
			{"cat", "main"}, {"cat", "nope", "/x"},
		} {
			inspCompare(t, p, false, args...)
		}
	}
}
