package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/groveos/grove/core/repotest"
)

func TestChecksumMatchesOstree(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	dir := t.TempDir()
	repotest.RichTree(t, dir)
	var paths []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	for _, p := range paths {
		for _, args := range [][]string{{"checksum", p}, {"checksum", "--ignore-xattrs", p}} {
			o, _, oc := inspRun(t, "ostree", args...)
			g, _, gc := inspRun(t, groveBin, args...)
			if o != g || oc != gc {
				t.Errorf("%v: ostree %d %q grove %d %q", args, oc, o, gc, g)
			}
		}
	}
	_, errOut, code := inspRun(t, groveBin, "checksum", dir+"/missing")
	if code == 0 || !filepathContains(errOut, "missing") {
		t.Errorf("missing file: exit %d %q", code, errOut)
	}
}

func filepathContains(s, sub string) bool { return len(s) > 0 && contains(s, sub) }

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
