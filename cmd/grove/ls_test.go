package main

import "testing"

func TestLsMatchesOstree(t *testing.T) {
	t.Parallel()
	f := inspectFixture(t)
	for _, p := range f.all() {
		for _, args := range [][]string{
			{"ls", "main"}, {"ls", "-R", "main"}, {"ls", "-R", "-C", "-X", "main"},
			{"ls", "-R", "--nul-filenames-only", "main"}, {"ls", "-d", "main", "/usr"},
			{"ls", "-C", "main", "/usr/bin", "/small.txt", "/bin", "usr/lib/withxattr"},
			{"ls", "-X", "main", "/usr/lib"}, {"ls", "-R", "main", "/var"}, {"ls", "main", "/usr/share/doc/naïve café"},
			{"ls", "main", "/nope"}, {"ls", "main", "/small.txt/x"}, {"ls", "main", "/usr/nope/x"},
			{"ls", "main", "./usr"}, {"ls", "main", "usr//bin"}, {"ls", "main", "usr/"}, {"ls", "main", ""},
			{"ls", "nope"}, {"ls"}, {"ls", "main^"},
		} {
			inspCompare(t, p, false, args...)
		}
	}
}
