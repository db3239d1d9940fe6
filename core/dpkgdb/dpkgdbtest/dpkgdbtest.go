// Package dpkgdbtest makes real Debian packages and real dpkg databases
// for tests: tiny .debs built with dpkg-deb, installed and removed by the
// real dpkg into a directory (dpkg --root), so that the status database
// is dpkg's own. For tests only; it needs dpkg and root.
package dpkgdbtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Need skips the test unless dpkg and dpkg-deb can install into a root
// here (root is needed); in CI it fails instead.
func Need(t testing.TB) {
	t.Helper()
	_, err1 := exec.LookPath("dpkg")
	_, err2 := exec.LookPath("dpkg-deb")
	switch {
	case err1 != nil || err2 != nil:
		if os.Getenv("CI") != "" {
			t.Fatal("dpkg and dpkg-deb are required in CI")
		}
		t.Skip("dpkg not installed")
	case os.Geteuid() != 0:
		if os.Getenv("CI") != "" {
			t.Fatal("the dpkg tests run as root in CI")
		}
		t.Skip("installing with dpkg --root needs root")
	}
}

// Deb builds a package with one file, /usr/share/NAME/version, and
// returns the .deb's path.
func Deb(t testing.TB, dir, name, version, arch string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), name)
	multi := ""
	if arch != "all" {
		multi = "Multi-Arch: same\n"
	}
	files := map[string]string{
		"DEBIAN/control":                         fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\n%sMaintainer: Grove Tests <tests@example.org>\nDescription: grove test package %s\n", name, version, arch, multi, name),
		"usr/share/" + name + "/version-" + arch: name + " " + version + "\n",
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deb := filepath.Join(dir, fmt.Sprintf("%s_%s_%s.deb", name, strings.ReplaceAll(version, ":", "%3a"), arch))
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", src, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build %s: %v\n%s", name, err, out)
	}
	return deb
}

// Root prepares an empty dpkg database under root.
func Root(t testing.TB, root string) {
	t.Helper()
	db := filepath.Join(root, "var/lib/dpkg")
	for _, d := range []string{"info", "updates"} {
		if err := os.MkdirAll(filepath.Join(db, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"status", "available"} {
		if err := os.WriteFile(filepath.Join(db, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Dpkg runs the real dpkg on root with args (-i DEB…, -r NAME…).
func Dpkg(t testing.TB, root string, args ...string) {
	t.Helper()
	full := append([]string{"--root=" + root, "--force-script-chrootless", "--force-downgrade", "--force-architecture", "--log=/dev/null"}, args...)
	if out, err := exec.Command("dpkg", full...).CombinedOutput(); err != nil {
		t.Fatalf("dpkg %v: %v\n%s", full, err, out)
	}
}

// Installed lists root's installed packages as dpkg-query sees them,
// "name:arch version" sorted.
func Installed(t testing.TB, root string) []string {
	t.Helper()
	args := []string{"-W", "-f", "${db:Status-Status} ${Package}:${Architecture} ${Version}\n"}
	if root != "/" {
		args = append([]string{"--admindir=" + filepath.Join(root, "var/lib/dpkg")}, args...)
	}
	out, err := exec.Command("dpkg-query", args...).Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	var list []string
	for _, l := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "installed "); ok {
			list = append(list, rest)
		}
	}
	return list
}
