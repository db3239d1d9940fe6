package repotest

import (
	"bytes"
	"os"
	"testing"

	"github.com/groveos/grove/core/internal/manifest"
	"golang.org/x/sys/unix"
)

// RichTree fills dir with what the compatibility tests demand: empty,
// small and >1 MiB files, executables, setuid/setgid/sticky bits,
// relative, absolute and dangling symlinks, hardlinks, nested empty
// directories, non-ASCII names and user xattrs.
func RichTree(t testing.TB, dir string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(dir, 0o755))
	must(os.Chmod(dir, 0o755))
	WriteFile(t, dir+"/empty", "", 0o644)
	WriteFile(t, dir+"/small.txt", "hello\n", 0o644)
	big := bytes.Repeat([]byte("0123456789abcdef grove big file\n"), 40000) // 1.28 MB
	big[12345] = 0
	must(os.WriteFile(dir+"/big.bin", big, 0o644))
	WriteFile(t, dir+"/usr/bin/tool", "#!/bin/sh\necho tool\n", 0o755)
	WriteFile(t, dir+"/usr/bin/suid", "setuid\n", 0o4755)
	WriteFile(t, dir+"/usr/bin/sgid", "setgid\n", 0o2755)
	must(os.Chmod(dir+"/usr/bin/suid", 0o4755))
	must(os.Chmod(dir+"/usr/bin/sgid", 0o2755))
	must(os.MkdirAll(dir+"/tmp", 0o755))
	must(os.Chmod(dir+"/tmp", 0o1777))
	WriteFile(t, dir+"/etc/os-release", "NAME=Grove\nVERSION_ID=1\n", 0o644)
	WriteFile(t, dir+"/etc/secret", "s3cret\n", 0o600)
	must(os.MkdirAll(dir+"/etc/private", 0o700))
	must(os.Chmod(dir+"/etc/private", 0o700))
	must(os.Symlink("../bin/tool", dir+"/usr/bin/relative-link"))
	must(os.Symlink("/usr/bin/tool", dir+"/usr/bin/absolute-link"))
	must(os.Symlink("does/not/exist", dir+"/dangling"))
	must(os.Symlink("usr/bin", dir+"/bin"))
	must(os.Link(dir+"/small.txt", dir+"/usr/hardlink.txt"))
	must(os.MkdirAll(dir+"/var/empty/nested/deeper", 0o755))
	WriteFile(t, dir+"/usr/share/doc/naïve café/日本語.txt", "non-ascii ✓\n", 0o644)
	WriteFile(t, dir+"/usr/lib/withxattr", "xattrs\n", 0o644)
	must(unix.Setxattr(dir+"/usr/lib/withxattr", "user.foo", []byte("bar"), 0))
	must(unix.Setxattr(dir+"/usr/lib/withxattr", "user.abc", []byte("1"), 0))
	must(unix.Setxattr(dir+"/usr/lib", "user.dir", []byte("dirattr"), 0))
}

// Manifest describes a tree for comparison: one line per entry with type,
// mode, owner, size, content hash or link target, and user xattrs.
// Directory mtimes and file mtimes are left out (ostree does not keep them).
func Manifest(t testing.TB, dir string) string {
	t.Helper()
	m, err := manifest.Dir(dir, manifest.Options{UserXattrs: true})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// SameTree fails the test when two directory trees differ.
func SameTree(t testing.TB, want, got string) {
	t.Helper()
	if d := manifest.Diff(Manifest(t, want), Manifest(t, got)); d != "" {
		t.Errorf("trees differ (- %s, + %s):\n%s", want, got, d)
	}
}
