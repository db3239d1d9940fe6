//go:build linux

package rofiles

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// requireFuse skips when FUSE cannot be used here, but fails under CI, where
// it must be available.
func requireFuse(t *testing.T) {
	t.Helper()
	why := ""
	if _, err := os.Stat(DevFuse); err != nil {
		why = DevFuse + " is missing"
	} else if os.Geteuid() != 0 {
		if _, err := Fusermount(); err != nil {
			why = err.Error()
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("FUSE unavailable under CI: %s", why)
	}
	t.Skipf("FUSE unavailable: %s", why)
}

// fixture builds SOURCE with a hardlinked "repo object": repo/obj is linked
// as src/usr/bin/tool. It returns the tree's root directory.
func fixture(t *testing.T) (base string) {
	t.Helper()
	base = t.TempDir()
	for _, d := range []string{"repo", "src/usr/bin", "src/etc", "mnt"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	obj := filepath.Join(base, "repo/obj")
	if err := os.WriteFile(obj, []byte("object bytes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(obj, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(obj, "user.grove", []byte("v"), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
		t.Fatal(err)
	}
	if err := os.Link(obj, filepath.Join(base, "src/usr/bin/tool")); err != nil {
		t.Fatal(err)
	}
	// A second name for the same object inside the mount.
	if err := os.Link(obj, filepath.Join(base, "src/usr/bin/tool2")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "src/etc/single"), []byte("one link\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("tool", filepath.Join(base, "src/usr/bin/link")); err != nil {
		t.Fatal(err)
	}
	return base
}

func mount(t *testing.T, base string, o Options) *Server {
	t.Helper()
	requireFuse(t)
	s, err := Mount(filepath.Join(base, "src"), filepath.Join(base, "mnt"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Unmount(); err != nil {
			t.Log(err)
		}
		s.Wait()
	})
	return s
}

func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func statT(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

func TestProtectsHardlinks(t *testing.T) {
	base := fixture(t)
	mount(t, base, Options{})
	mnt := filepath.Join(base, "mnt")
	tool := filepath.Join(mnt, "usr/bin/tool")
	obj := filepath.Join(base, "repo/obj")

	if got := readFile(t, tool); got != "object bytes\n" {
		t.Fatalf("read through mount: %q", got)
	}
	if got := readFile(t, filepath.Join(mnt, "usr/bin/link")); got != "object bytes\n" {
		t.Fatalf("read through symlink: %q", got)
	}

	_, err := os.OpenFile(tool, os.O_WRONLY, 0)
	wantErrno(t, "open O_WRONLY", err, syscall.EROFS)
	_, err = os.OpenFile(tool, os.O_RDWR, 0)
	wantErrno(t, "open O_RDWR", err, syscall.EROFS)
	_, err = os.OpenFile(tool, os.O_WRONLY|os.O_TRUNC, 0)
	wantErrno(t, "open O_TRUNC", err, syscall.EROFS)
	_, err = os.OpenFile(tool, os.O_WRONLY|os.O_APPEND, 0)
	wantErrno(t, "open O_APPEND", err, syscall.EROFS)
	wantErrno(t, "truncate", os.Truncate(tool, 0), syscall.EROFS)
	wantErrno(t, "chmod", os.Chmod(tool, 0o755), syscall.EROFS)
	wantErrno(t, "chown", os.Chown(tool, 1, 1), syscall.EROFS)
	wantErrno(t, "lchown", os.Lchown(tool, 1, 1), syscall.EROFS)
	wantErrno(t, "setxattr", unix.Setxattr(tool, "user.x", []byte("y"), 0), syscall.EROFS)
	wantErrno(t, "removexattr", unix.Removexattr(tool, "user.grove"), syscall.EROFS)
	// Writing via the second name of the same object is refused too.
	wantErrno(t, "open tool2", func() error { _, err := os.OpenFile(filepath.Join(mnt, "usr/bin/tool2"), os.O_WRONLY, 0); return err }(), syscall.EROFS)

	for _, p := range []string{obj, filepath.Join(base, "src/usr/bin/tool"), tool} {
		if got := readFile(t, p); got != "object bytes\n" {
			t.Errorf("%s changed: %q", p, got)
		}
		st := statT(t, p)
		if st.Mode&07777 != 0o644 || st.Uid != uint32(os.Getuid()) {
			t.Errorf("%s: mode %o uid %d changed", p, st.Mode&07777, st.Uid)
		}
		if st.Nlink != 3 {
			t.Errorf("%s: nlink %d, want 3", p, st.Nlink)
		}
	}
	// The mount shows the real inode number.
	if a, b := statT(t, tool).Ino, statT(t, obj).Ino; a != b {
		t.Errorf("st_ino through mount %d, underlying %d", a, b)
	}
	// Timestamps may be changed, like rofiles-fuse allows.
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, tool, []unix.Timespec{{Sec: 5}, {Sec: 5}}, 0); err != nil {
		t.Errorf("utimens on hardlinked file: %v", err)
	}
	// Getxattr and listxattr pass through.
	if v, err := getxattr(tool, "user.grove"); err == nil && v != "v" {
		t.Errorf("getxattr: %q", v)
	}

	// A file with a single link may be written in place.
	single := filepath.Join(mnt, "etc/single")
	if err := os.WriteFile(single, []byte("rewritten\n"), 0o644); err != nil {
		t.Errorf("write single-link file: %v", err)
	}
	if err := os.Chmod(single, 0o600); err != nil {
		t.Errorf("chmod single-link file: %v", err)
	}
	// Directories are not protected.
	if err := os.Chmod(filepath.Join(mnt, "usr/bin"), 0o700); err != nil {
		t.Errorf("chmod directory: %v", err)
	}
	// Device nodes are refused like rofiles-fuse does.
	wantErrno(t, "mkfifo", syscall.Mkfifo(filepath.Join(mnt, "fifo"), 0o644), syscall.EROFS)
}

func getxattr(p, name string) (string, error) {
	buf := make([]byte, 256)
	n, err := unix.Getxattr(p, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func TestTreeIsWritable(t *testing.T) {
	base := fixture(t)
	mount(t, base, Options{})
	mnt := filepath.Join(base, "mnt")
	src := filepath.Join(base, "src")

	// Create and write a new file, in several writes.
	f, err := os.Create(filepath.Join(mnt, "etc/new"))
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("hello ")
	f.WriteString("world\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(src, "etc/new")); got != "hello world\n" {
		t.Fatalf("new file in SOURCE: %q", got)
	}
	// The new file has one link: it may be rewritten, chmod'ed, xattr'ed.
	if err := os.WriteFile(filepath.Join(mnt, "etc/new"), []byte("again\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(mnt, "etc/new"), 0o640); err != nil {
		t.Fatal(err)
	}
	if st := statT(t, filepath.Join(src, "etc/new")); st.Mode&07777 != 0o640 {
		t.Errorf("mode in SOURCE %o", st.Mode&07777)
	}
	if err := unix.Setxattr(filepath.Join(mnt, "etc/new"), "user.k", []byte("v"), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
		t.Errorf("setxattr new file: %v", err)
	}

	// temp file + rename over an existing name, the ldconfig pattern,
	// then read back through the mount: no stale content.
	if err := os.WriteFile(filepath.Join(mnt, "etc/cache"), []byte("old cache\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(mnt, "etc/cache")); got != "old cache\n" {
		t.Fatal(got)
	}
	if err := os.WriteFile(filepath.Join(mnt, "etc/cache~"), []byte("new cache, longer\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(mnt, "etc/cache~"), filepath.Join(mnt, "etc/cache")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(mnt, "etc/cache")); got != "new cache, longer\n" {
		t.Errorf("after rename through mount: %q", got)
	}
	// The same done directly in SOURCE is seen at once too.
	os.WriteFile(filepath.Join(src, "etc/cache~"), []byte("from source\n"), 0o644)
	os.Rename(filepath.Join(src, "etc/cache~"), filepath.Join(src, "etc/cache"))
	if got := readFile(t, filepath.Join(mnt, "etc/cache")); got != "from source\n" {
		t.Errorf("after rename in SOURCE: %q", got)
	}

	// Renaming a hardlinked object's name is allowed (it does not modify it).
	if err := os.Rename(filepath.Join(mnt, "usr/bin/tool2"), filepath.Join(mnt, "usr/bin/tool3")); err != nil {
		t.Errorf("rename hardlinked: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(src, "usr/bin/tool3")); err != nil {
		t.Error(err)
	}

	// mkdir, symlink, readlink, link, unlink, rmdir.
	if err := os.Mkdir(filepath.Join(mnt, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../etc/new", filepath.Join(mnt, "var/sl")); err != nil {
		t.Fatal(err)
	}
	if tgt, err := os.Readlink(filepath.Join(src, "var/sl")); err != nil || tgt != "../etc/new" {
		t.Errorf("symlink in SOURCE: %q %v", tgt, err)
	}
	if tgt, err := os.Readlink(filepath.Join(mnt, "var/sl")); err != nil || tgt != "../etc/new" {
		t.Errorf("readlink through mount: %q %v", tgt, err)
	}
	if err := os.Link(filepath.Join(mnt, "etc/new"), filepath.Join(mnt, "var/hl")); err != nil {
		t.Fatal(err)
	}
	// Now hardlinked, the new file is protected like any object.
	_, err = os.OpenFile(filepath.Join(mnt, "etc/new"), os.O_WRONLY, 0)
	wantErrno(t, "write after link", err, syscall.EROFS)
	for _, p := range []string{"var/hl", "var/sl", "etc/new", "etc/cache"} {
		if err := os.Remove(filepath.Join(mnt, p)); err != nil {
			t.Errorf("unlink %s: %v", p, err)
		}
		if _, err := os.Lstat(filepath.Join(src, p)); !os.IsNotExist(err) {
			t.Errorf("%s still in SOURCE: %v", p, err)
		}
	}
	if err := os.Remove(filepath.Join(mnt, "var")); err != nil {
		t.Errorf("rmdir: %v", err)
	}
	ents, err := os.ReadDir(filepath.Join(mnt, "usr/bin"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, ","); got != "link,tool,tool3" {
		t.Errorf("readdir: %s", got)
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(mnt, &sfs); err != nil || sfs.Blocks == 0 {
		t.Errorf("statfs: %v %+v", err, sfs)
	}
}

func TestCopyup(t *testing.T) {
	base := fixture(t)
	mount(t, base, Options{Copyup: true})
	mnt := filepath.Join(base, "mnt")
	src := filepath.Join(base, "src")
	obj := filepath.Join(base, "repo/obj")
	objIno := statT(t, obj).Ino
	if err := os.Chown(obj, 123, 456); err != nil {
		t.Fatal(err)
	}

	f, err := os.OpenFile(filepath.Join(mnt, "usr/bin/tool"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatalf("open for write with --copyup: %v", err)
	}
	if _, err := f.WriteString("appended\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := "object bytes\nappended\n"
	if got := readFile(t, filepath.Join(mnt, "usr/bin/tool")); got != want {
		t.Errorf("mount after copyup: %q", got)
	}
	if got := readFile(t, filepath.Join(src, "usr/bin/tool")); got != want {
		t.Errorf("SOURCE after copyup: %q", got)
	}
	for _, p := range []string{obj, filepath.Join(mnt, "usr/bin/tool2")} {
		if got := readFile(t, p); got != "object bytes\n" {
			t.Errorf("other hardlink %s changed: %q", p, got)
		}
	}
	cst := statT(t, filepath.Join(src, "usr/bin/tool"))
	if cst.Ino == objIno {
		t.Errorf("copy has the object's inode %d", cst.Ino)
	}
	if mst := statT(t, filepath.Join(mnt, "usr/bin/tool")); mst.Ino != cst.Ino {
		t.Errorf("mount shows ino %d, SOURCE %d", mst.Ino, cst.Ino)
	}
	if cst.Nlink != 1 || statT(t, obj).Nlink != 2 {
		t.Errorf("nlink copy %d object %d", cst.Nlink, statT(t, obj).Nlink)
	}
	if cst.Mode&07777 != 0o644 || cst.Uid != 123 || cst.Gid != 456 {
		t.Errorf("copy lost metadata: mode %o owner %d:%d", cst.Mode&07777, cst.Uid, cst.Gid)
	}
	if v, err := getxattr(filepath.Join(src, "usr/bin/tool"), "user.grove"); err == nil && v != "v" {
		t.Errorf("copy lost xattr: %q", v)
	}

	// chmod with copyup breaks the link of tool2 and leaves the object alone.
	if err := os.Chmod(filepath.Join(mnt, "usr/bin/tool2"), 0o700); err != nil {
		t.Fatal(err)
	}
	if st := statT(t, obj); st.Mode&07777 != 0o644 || st.Nlink != 1 {
		t.Errorf("object after chmod copyup: mode %o nlink %d", st.Mode&07777, st.Nlink)
	}
	if st := statT(t, filepath.Join(src, "usr/bin/tool2")); st.Mode&07777 != 0o700 || st.Ino == objIno {
		t.Errorf("tool2 after chmod copyup: mode %o ino %d", st.Mode&07777, st.Ino)
	}
	// No temporary names are left behind.
	ents, _ := os.ReadDir(filepath.Join(src, "usr/bin"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".grove-copyup-") {
			t.Errorf("leftover %s", e.Name())
		}
	}
}

func TestCheckErrors(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o644)
	full := filepath.Join(base, "full")
	os.MkdirAll(filepath.Join(full, "x"), 0o755)
	empty := filepath.Join(base, "empty")
	os.Mkdir(empty, 0o755)

	cases := []struct{ src, mnt, want string }{
		{file, empty, file + ": not a directory"},
		{filepath.Join(base, "nope"), empty, filepath.Join(base, "nope") + ": no such file"},
		{base, file, "mount point " + file + ": not a directory"},
		{base, full, "mount point " + full + ": directory not empty"},
		{base, filepath.Join(base, "gone"), "mount point " + filepath.Join(base, "gone") + ": no such file"},
	}
	for _, c := range cases {
		err := Check(c.src, c.mnt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%s, %s) = %v, want %q", c.src, c.mnt, err, c.want)
		}
	}

	old := DevFuse
	DevFuse = filepath.Join(base, "no-fuse")
	defer func() { DevFuse = old }()
	if err := Check(base, empty); err == nil || !strings.Contains(err.Error(), DevFuse+": no such device") {
		t.Errorf("missing /dev/fuse: %v", err)
	}
}

func TestFusermountMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := fusermountFallback
	fusermountFallback = t.TempDir()
	defer func() { fusermountFallback = old }()
	_, err := Fusermount()
	if err == nil || !strings.Contains(err.Error(), "fusermount3 or fusermount: not found") {
		t.Errorf("Fusermount() = %v", err)
	}
}

func TestWritableRule(t *testing.T) {
	cases := []struct {
		mode  uint32
		nlink uint64
		attrs uint64
		want  bool
	}{
		{syscall.S_IFREG | 0o644, 1, 0, true},
		{syscall.S_IFREG | 0o644, 2, 0, false},
		{syscall.S_IFLNK | 0o777, 2, 0, false},
		{syscall.S_IFLNK | 0o777, 1, 0, true},
		{syscall.S_IFDIR | 0o755, 5, 0, true},
		{syscall.S_IFIFO | 0o644, 2, 0, true},
		{syscall.S_IFREG | 0o644, 1, unix.STATX_ATTR_VERITY, false},
	}
	for _, c := range cases {
		if got := Writable(c.mode, c.nlink, c.attrs); got != c.want {
			t.Errorf("Writable(%o, %d, %x) = %v", c.mode, c.nlink, c.attrs, got)
		}
	}
}

func TestParseMountOptions(t *testing.T) {
	var o Options
	if err := o.ParseMountOptions("allow_other,copyup,entry_timeout=1.5,attr_timeout=0,fsname=x,rw,nosuid"); err != nil {
		t.Fatal(err)
	}
	if !o.AllowOther || !o.Copyup || o.EntryTimeout.Seconds() != 1.5 || o.FsName != "x" || len(o.Extra) != 1 || o.Extra[0] != "nosuid" {
		t.Errorf("%+v", o)
	}
	if err := o.ParseMountOptions("entry_timeout=abc"); err == nil {
		t.Error("bad timeout accepted")
	}
}

// TestBreakHardlinkSymlink covers copyup of a hardlinked symlink, which
// needs no mount.
func TestBreakHardlinkSymlink(t *testing.T) {
	d := t.TempDir()
	if err := os.Symlink("target", filepath.Join(d, "a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(d, "a"), filepath.Join(d, "b")); err != nil {
		t.Skipf("cannot hardlink symlinks here: %v", err)
	}
	if err := BreakHardlink(filepath.Join(d, "b")); err != nil {
		t.Fatal(err)
	}
	if statT(t, filepath.Join(d, "a")).Ino == statT(t, filepath.Join(d, "b")).Ino {
		t.Error("still hardlinked")
	}
	if tgt, _ := os.Readlink(filepath.Join(d, "b")); tgt != "target" {
		t.Errorf("target %q", tgt)
	}
	if !bytes.Equal([]byte(readlinkOr(filepath.Join(d, "a"))), []byte("target")) {
		t.Error("original changed")
	}
}

func readlinkOr(p string) string { s, _ := os.Readlink(p); return s }

// TestCopyupConcurrent has several writers break the same hardlink at once:
// they must all end up writing to one shared copy.
func TestCopyupConcurrent(t *testing.T) {
	base := fixture(t)
	mount(t, base, Options{Copyup: true})
	tool := filepath.Join(base, "mnt/usr/bin/tool")
	const n = 8
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			f, err := os.OpenFile(tool, os.O_WRONLY, 0)
			if err != nil {
				errs <- err
				return
			}
			_, err = f.WriteAt([]byte{byte('a' + i), '\n'}, int64(len("object bytes\n")+2*i))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			errs <- err
		}(i)
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	want := "object bytes\na\nb\nc\nd\ne\nf\ng\nh\n"
	if got := readFile(t, filepath.Join(base, "src/usr/bin/tool")); got != want {
		t.Errorf("copy: %q, want %q", got, want)
	}
	if got := readFile(t, filepath.Join(base, "repo/obj")); got != "object bytes\n" {
		t.Errorf("object changed: %q", got)
	}
}
