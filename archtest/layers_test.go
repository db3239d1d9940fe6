// Package archtest checks the one-way import rule:
// cmd → tui → views → theme, and core imports no UI package.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/groveos/grove"

func deps(t *testing.T, pattern string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pattern).Output()
	if err != nil {
		if strings.Contains(pattern, "...") {
			t.Fatalf("go list -deps %s: %v", pattern, err)
		}
		return nil // the package does not exist yet
	}
	return strings.Fields(string(out))
}

func TestLayers(t *testing.T) {
	rules := []struct {
		pkgs      string
		forbidden []string
	}{
		{"../core/...", []string{"charm.land/", "github.com/charmbracelet/", module + "/tui", module + "/views", module + "/theme", module + "/cmd"}},
		{"../views/...", []string{module + "/tui", module + "/cmd"}},
		{"../theme/...", []string{module + "/core", module + "/views", module + "/tui", module + "/cmd"}},
		{"../tui/...", []string{module + "/cmd"}},
	}
	for _, r := range rules {
		for _, d := range deps(t, r.pkgs) {
			for _, f := range r.forbidden {
				if strings.HasPrefix(d, f) {
					t.Errorf("%s depends on %s (forbidden: %s)", r.pkgs, d, f)
				}
			}
		}
	}
}
