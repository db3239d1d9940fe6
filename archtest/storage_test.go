package archtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestOneStorageOwner holds every package but core/repo to the storage
// seam: objects are read through repo's readers, ObjectDir and Txn, never
// by building a path into objects/ (tests may damage objects by path).
func TestOneStorageOwner(t *testing.T) {
	forbidden := regexp.MustCompile(`\.ObjectPath\(|"objects"|"/objects|/objects"|\.filez"|uncompressed-objects-cache`)
	for _, top := range []string{"../core", "../cmd", "../tui", "../views"} {
		filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p == "../core/repo" || d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "//") {
					continue
				}
				if forbidden.MatchString(line) {
					t.Errorf("%s:%d reaches into the loose object layout: %s", p, i+1, strings.TrimSpace(line))
				}
			}
			return nil
		})
	}
}
