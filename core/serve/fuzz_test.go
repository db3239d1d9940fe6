package serve

import (
	"strings"
	"testing"

	"github.com/groveos/grove/core/repo"
)

// FuzzClean: whatever URL path a client sends, a path clean accepts is
// relative, has no "." or ".." element, no NUL or backslash, and is one the
// repository publishes.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"/summary", "/objects/ab/cd.filez", "/refs/../tmp/x", "/../etc/passwd",
		"//objects//ab", "/objects/./x", "/", "", "/tmp/x", "/refs/heads/a\\..\\b", "/config\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c, ok := clean(p)
		if !ok {
			return
		}
		if strings.HasPrefix(c, "/") || strings.ContainsAny(c, "\x00\\") || !repo.Published(c) {
			t.Fatalf("clean(%q) = %q", p, c)
		}
		for _, seg := range strings.Split(c, "/") {
			if seg == "." || seg == ".." || seg == "" {
				t.Fatalf("clean(%q) = %q", p, c)
			}
		}
	})
}
