package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rofilesRequireFuse skips without FUSE, but fails under CI.
func rofilesRequireFuse(t *testing.T) (fusermount string) {
	t.Helper()
	why := ""
	if _, err := os.Stat("/dev/fuse"); err != nil {
		why = "/dev/fuse is missing"
	}
	for _, name := range []string{"fusermount3", "fusermount"} {
		if p, err := exec.LookPath(name); err == nil {
			fusermount = p
			break
		}
	}
	if fusermount == "" && why == "" {
		why = "fusermount3/fusermount not installed (Debian package fuse3)"
	}
	if why != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("FUSE unavailable under CI: %s", why)
		}
		t.Skipf("FUSE unavailable: %s", why)
	}
	return fusermount
}

func isMounted(t *testing.T, mnt string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == mnt {
			return true
		}
	}
	return false
}

// rofilesDaemonPid finds the background server serving mnt.
func rofilesDaemonPid(t *testing.T, mnt string) int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cl), "\x00"), "\x00")
		if len(args) > 2 && args[1] == "rofiles" && args[len(args)-1] == mnt {
			return pid
		}
	}
	t.Fatalf("no rofiles server process for %s", mnt)
	return 0
}

// processGone reports whether pid has exited (or is a zombie nobody reaped).
func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z' || s[i+2] == 'X'
	}
	return false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// rofilesTree builds the OSTree build-recipe situation: a "repo" holding
// objects and SOURCE (exampleos-build) with hardlinked checkouts of them,
// including a real shared library and its soname symlink.
func rofilesTree(t *testing.T) (base, src, mnt string) {
	t.Helper()
	base = t.TempDir()
	src = filepath.Join(base, "exampleos-build")
	mnt = filepath.Join(base, "mnt")
	libdir := filepath.Join(src, "usr/lib/x86_64-linux-gnu")
	for _, d := range []string{filepath.Join(base, "repo"), libdir, filepath.Join(src, "etc"), mnt} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("usr/lib", filepath.Join(src, "lib"))
	obj := filepath.Join(base, "repo/tool.file")
	if err := os.WriteFile(obj, []byte("repo object\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(src, "usr/bin"), 0o755)
	if err := os.Link(obj, filepath.Join(src, "usr/bin/tool")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "etc/ld.so.conf"), []byte("/usr/lib/x86_64-linux-gnu\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	libs, _ := filepath.Glob("/lib/x86_64-linux-gnu/libz.so.1.*")
	if len(libs) == 0 {
		libs, _ = filepath.Glob("/usr/lib/*/libz.so.1.*")
	}
	if len(libs) > 0 {
		data, err := os.ReadFile(libs[0])
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(libs[0])
		robj := filepath.Join(base, "repo", name)
		if err := os.WriteFile(robj, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(robj, filepath.Join(libdir, name)); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(name, filepath.Join(libdir, "libz.so.1")); err != nil {
			t.Fatal(err)
		}
	}
	return base, src, mnt
}

func TestRofilesCLIDaemonLdconfig(t *testing.T) {
	fusermount := rofilesRequireFuse(t)
	base, src, mnt := rofilesTree(t)

	start := time.Now()
	grove(t, "rofiles", src, mnt)
	if !isMounted(t, mnt) {
		t.Fatalf("%s is not mounted after grove rofiles returned", mnt)
	}
	pid := rofilesDaemonPid(t, mnt)
	defer func() {
		if isMounted(t, mnt) {
			exec.Command(fusermount, "-u", "-z", mnt).Run()
		}
	}()
	t.Logf("mounted in %v, server pid %d", time.Since(start), pid)

	tool := filepath.Join(mnt, "usr/bin/tool")
	if b, err := os.ReadFile(tool); err != nil || string(b) != "repo object\n" {
		t.Fatalf("read: %q %v", b, err)
	}
	if _, err := os.OpenFile(tool, os.O_WRONLY, 0); !errors.Is(err, syscall.EROFS) {
		t.Errorf("write to hardlinked file: %v, want EROFS", err)
	}
	if err := os.Chmod(tool, 0o777); !errors.Is(err, syscall.EROFS) {
		t.Errorf("chmod hardlinked file: %v, want EROFS", err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "etc/new"), []byte("x"), 0o644); err != nil {
		t.Errorf("create: %v", err)
	}

	if ldconfig, err := exec.LookPath("ldconfig"); err != nil {
		t.Log("no ldconfig; skipping the ldconfig -r step")
	} else if os.Geteuid() != 0 {
		t.Log("ldconfig -r needs root (chroot); skipping it")
	} else {
		out, err := exec.Command(ldconfig, "-r", mnt).CombinedOutput()
		if err != nil {
			t.Fatalf("ldconfig -r %s: %v\n%s", mnt, err, out)
		}
		cache, err := os.ReadFile(filepath.Join(src, "etc/ld.so.cache"))
		if err != nil {
			t.Fatalf("ldconfig wrote no cache into SOURCE: %v", err)
		}
		if !bytes.Contains(cache, []byte("libz.so.1")) {
			t.Errorf("ld.so.cache does not list libz.so.1")
		}
		// And the repo objects were not touched.
		libs, _ := filepath.Glob(filepath.Join(base, "repo/libz.so.1.*"))
		for _, l := range libs {
			var st syscall.Stat_t
			syscall.Stat(l, &st)
			if st.Nlink != 2 {
				t.Errorf("%s: nlink %d", l, st.Nlink)
			}
		}
	}

	if out, err := exec.Command(fusermount, "-u", mnt).CombinedOutput(); err != nil {
		t.Fatalf("%s -u: %v\n%s", fusermount, err, out)
	}
	waitFor(t, "the rofiles server to exit", func() bool { return processGone(pid) })
	if isMounted(t, mnt) {
		t.Error("still mounted")
	}
}

func TestRofilesCLIForegroundCopyup(t *testing.T) {
	fusermount := rofilesRequireFuse(t)
	base, src, mnt := rofilesTree(t)

	c := exec.Command(groveBin, "rofiles", "-f", "--copyup", "-o", "attr_timeout=0", src, mnt)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	defer func() {
		if isMounted(t, mnt) {
			exec.Command(fusermount, "-u", "-z", mnt).Run()
		}
	}()
	waitFor(t, "the foreground mount", func() bool { return isMounted(t, mnt) })

	tool := filepath.Join(mnt, "usr/bin/tool")
	if err := os.WriteFile(tool, []byte("patched\n"), 0o755); err != nil {
		t.Fatalf("write with --copyup: %v", err)
	}
	for p, want := range map[string]string{
		tool:                                  "patched\n",
		filepath.Join(src, "usr/bin/tool"):    "patched\n",
		filepath.Join(base, "repo/tool.file"): "repo object\n",
	} {
		if b, _ := os.ReadFile(p); string(b) != want {
			t.Errorf("%s: %q, want %q", p, b, want)
		}
	}
	var a, b syscall.Stat_t
	syscall.Stat(filepath.Join(src, "usr/bin/tool"), &a)
	syscall.Stat(filepath.Join(base, "repo/tool.file"), &b)
	if a.Ino == b.Ino || a.Mode&07777 != 0o755 {
		t.Errorf("copy ino %d (object %d) mode %o", a.Ino, b.Ino, a.Mode&07777)
	}

	if out, err := exec.Command(fusermount, "-u", mnt).CombinedOutput(); err != nil {
		t.Fatalf("%s -u: %v\n%s", fusermount, err, out)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("grove rofiles -f: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		c.Process.Kill()
		t.Fatal("grove rofiles -f did not exit after unmount")
	}
}

func TestRofilesCLIErrors(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o644)
	full := filepath.Join(base, "full")
	os.MkdirAll(filepath.Join(full, "x"), 0o755)
	empty := filepath.Join(base, "empty")
	os.Mkdir(empty, 0o755)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rofiles", file, empty}, "source " + file + ": not a directory"},
		{[]string{"rofiles", base, full}, "mount point " + full + ": directory not empty"},
		{[]string{"rofiles", base, file}, "mount point " + file + ": not a directory"},
		{[]string{"rofiles", "-f", base, filepath.Join(base, "nope")}, "mount point " + filepath.Join(base, "nope") + ": no such file or directory"},
		{[]string{"rofiles", base}, "accepts 2 arg(s)"},
		{[]string{"rofiles", "-o", "entry_timeout=x", base, empty}, "entry_timeout=x"},
	} {
		_, stderr, err := groveErr(t, c.args...)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("grove %s: err %v stderr %q, want %q", strings.Join(c.args, " "), err, stderr, c.want)
		}
	}
}
