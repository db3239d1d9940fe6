package fsutil

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestXattrAtMatchesPathCalls reads attributes relative to a directory
// descriptor, with the *at syscalls and with the path fallbacks, and
// compares with the path-based reads: small and large values, none at all,
// a missing attribute and a missing file.
func TestXattrAtMatchesPathCalls(t *testing.T) {
	dir := t.TempDir()
	withX, without := filepath.Join(dir, "with"), filepath.Join(dir, "without")
	for _, p := range []string{withX, without} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte("v"), 1000) // more than the first buffer
	for name, val := range map[string][]byte{"user.a": []byte("1"), "user.big": big} {
		if err := unix.Lsetxattr(withX, name, val, 0); err != nil {
			if err == unix.ENOTSUP {
				t.Skip("no user xattrs on this filesystem")
			}
			t.Fatal(err)
		}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	defer noXattrat.Store(false)
	for _, fallback := range []bool{false, true} {
		noXattrat.Store(fallback)
		for _, p := range []string{withX, without} {
			want, err := ListXattrs(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, full := range []string{p, ""} {
				got, err := ListXattrsAt(fd, filepath.Base(p), full)
				if err != nil {
					t.Fatalf("fallback %v: %s: %v", fallback, p, err)
				}
				if len(got) != len(want) {
					t.Fatalf("fallback %v: %s: %d attributes, want %d", fallback, p, len(got), len(want))
				}
				for i := range got {
					if got[i].Name != want[i].Name || !bytes.Equal(got[i].Value, want[i].Value) {
						t.Errorf("fallback %v: %s: attribute %d is %s=%.10q, want %s=%.10q", fallback, p, i, got[i].Name, got[i].Value, want[i].Name, want[i].Value)
					}
				}
			}
		}
		buf := make([]byte, 16)
		for _, full := range []string{withX, ""} {
			if n, err := GetxattrAt(fd, "with", full, "user.a", buf); err != nil || string(buf[:n]) != "1" {
				t.Errorf("fallback %v, full path %q: user.a = %q, %v", fallback, full, buf[:n], err)
			}
		}
		if _, err := GetxattrAt(fd, "with", withX, "user.missing", buf); err != unix.ENODATA {
			t.Errorf("fallback %v: missing attribute: %v, want ENODATA", fallback, err)
		}
		if _, err := GetxattrAt(fd, "nothere", filepath.Join(dir, "nothere"), "user.a", buf); err != unix.ENOENT {
			t.Errorf("fallback %v: missing file: %v, want ENOENT", fallback, err)
		}
		if !fallback && noXattrat.Load() {
			t.Logf("this kernel has no getxattrat: only the fallbacks were tested")
		}
	}
}
