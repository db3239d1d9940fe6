package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// groveBin is the grove binary built once for the CLI tests in this package.
var groveBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "grove-cli-test-")
	if err != nil {
		panic(err)
	}
	groveBin = filepath.Join(dir, "grove")
	if out, err := exec.Command("go", "build", "-o", groveBin, ".").CombinedOutput(); err != nil {
		panic("building grove: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	if inspFixtureDir != "" {
		os.RemoveAll(inspFixtureDir)
	}
	os.Exit(code)
}

// grove runs the built binary and returns stdout; it fails the test on a
// non-zero exit.
func grove(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, err := groveErr(t, args...)
	if err != nil {
		t.Fatalf("grove %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// groveErr runs the built binary and returns stdout, stderr and the exit error.
func groveErr(t testing.TB, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(groveBin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}
