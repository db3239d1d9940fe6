package repotest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repo"
)

// Modes lists every mode Grove writes, for conformance loops.
var Modes = []repo.Mode{repo.ModeArchive, repo.ModeBareUser, repo.ModeBareUserOnly, repo.ModeBare}

// NeedOstree returns the path of the ostree binary. It fails the test when
// ostree is missing and $CI is set, and skips it otherwise.
func NeedOstree(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ostree")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ostree is required in CI: %v", err)
		}
		t.Skip("ostree not installed")
	}
	return p
}

// Ostree runs the real ostree with args and returns its trimmed stdout,
// failing the test on error.
func Ostree(t testing.TB, args ...string) string {
	t.Helper()
	bin := NeedOstree(t)
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ostree %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// OstreeErr runs ostree and returns combined output and the error.
func OstreeErr(t testing.TB, args ...string) (string, error) {
	t.Helper()
	bin := NeedOstree(t)
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

// NewRepo creates a repository of the given mode in a temporary directory.
func NewRepo(t testing.TB, mode repo.Mode) *repo.Repo {
	t.Helper()
	r, err := repo.Create(context.Background(), t.TempDir()+"/repo", repo.CreateOptions{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// WriteFile creates a file with the given mode, making parent directories.
func WriteFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		if err := os.MkdirAll(path[:i], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
