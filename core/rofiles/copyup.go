//go:build linux

package rofiles

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Writable reports whether rofiles lets a file with these attributes be
// modified in place. It is rofiles-fuse's can_write_stbuf: anything but a
// regular file or symlink is writable (ostree never hardlinks those), an
// fs-verity file never is, and otherwise a file is writable exactly when it
// has a single link. A file created through the mount therefore stays
// writable until something hardlinks it, and a repo object checked out by
// hardlink (nlink >= 2) is read-only.
func Writable(mode uint32, nlink uint64, attributes uint64) bool {
	t := mode & syscall.S_IFMT
	if t != syscall.S_IFREG && t != syscall.S_IFLNK {
		return true
	}
	if attributes&unix.STATX_ATTR_VERITY != 0 {
		return false
	}
	return nlink <= 1
}

// verifyWriteOrCopyup is rofiles-fuse's verify_write_or_copyup: a missing
// path is fine (the operation itself reports it), a writable file is fine,
// and a protected one yields EROFS or, with --copyup, is replaced by a
// private copy first.
func (t *tree) verifyWriteOrCopyup(p string) syscall.Errno {
	if t.copyup {
		t.copyupMu.Lock()
		defer t.copyupMu.Unlock()
	}
	var stx unix.Statx_t
	err := unix.Statx(unix.AT_FDCWD, p, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, unix.STATX_BASIC_STATS, &stx)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return 0
		}
		return errnoOf(err)
	}
	if Writable(uint32(stx.Mode), uint64(stx.Nlink), stx.Attributes&stx.Attributes_mask) {
		return 0
	}
	if !t.copyup {
		return syscall.EROFS
	}
	if err := BreakHardlink(p); err != nil {
		return errnoOf(err)
	}
	return 0
}

func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}

// BreakHardlink replaces the regular file or symlink at p by a copy of
// itself with a single link: the copy is written to a temporary name in the
// same directory, given the original's owner, mode, extended attributes and
// timestamps, and renamed over p. Every other link of the original inode (the
// repo object) keeps its contents.
func BreakHardlink(p string) error {
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		return err
	}
	tmp, err := tempName(filepath.Dir(p))
	if err != nil {
		return err
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		err = copyRegular(p, tmp, &st)
	case syscall.S_IFLNK:
		err = copySymlink(p, tmp, &st)
	default:
		return &os.PathError{Op: "copyup", Path: p, Err: syscall.EINVAL}
	}
	if err == nil {
		err = syscall.Rename(tmp, p)
	}
	if err != nil {
		_ = syscall.Unlink(tmp)
		return err
	}
	return nil
}

func tempName(dir string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(dir, ".grove-copyup-"+hex.EncodeToString(b[:])), nil
}

func copyRegular(src, tmp string, st *syscall.Stat_t) error {
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	ofd := int(out.Fd())
	// Owner before mode (chown clears set-id bits) and before xattrs
	// (chown clears security.capability).
	err = unix.Fchown(ofd, int(st.Uid), int(st.Gid))
	if err == nil {
		err = unix.Fchmod(ofd, st.Mode&07777)
	}
	if err == nil {
		err = copyXattrs(
			func(b []byte) (int, error) { return unix.Flistxattr(int(in.Fd()), b) },
			func(a string, b []byte) (int, error) { return unix.Fgetxattr(int(in.Fd()), a, b) },
			func(a string, v []byte) error { return unix.Fsetxattr(ofd, a, v, 0) },
			false)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return setFileTimes(tmp, st)
}

func copySymlink(src, tmp string, st *syscall.Stat_t) error {
	target, err := os.Readlink(src)
	if err != nil {
		return err
	}
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := unix.Lchown(tmp, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	err = copyXattrs(
		func(b []byte) (int, error) { return unix.Llistxattr(src, b) },
		func(a string, b []byte) (int, error) { return unix.Lgetxattr(src, a, b) },
		func(a string, v []byte) error { return unix.Lsetxattr(tmp, a, v, 0) },
		true)
	if err != nil {
		return err
	}
	return setFileTimes(tmp, st)
}

func setFileTimes(p string, st *syscall.Stat_t) error {
	ts := []unix.Timespec{unix.Timespec(st.Atim), unix.Timespec(st.Mtim)}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// copyXattrs copies every extended attribute. A file system without xattr
// support is not an error; neither, for symlinks, is a namespace the kernel
// refuses on symlinks (user.*).
func copyXattrs(list func([]byte) (int, error), get func(string, []byte) (int, error), set func(string, []byte) error, lenient bool) error {
	names, err := readSized(list)
	if err != nil {
		if errors.Is(err, syscall.ENOTSUP) {
			return nil
		}
		return err
	}
	for _, name := range splitNul(names) {
		val, err := readSized(func(b []byte) (int, error) { return get(name, b) })
		if err != nil {
			if errors.Is(err, syscall.ENODATA) {
				continue
			}
			return err
		}
		if err := set(name, val); err != nil {
			if lenient && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOTSUP)) {
				continue
			}
			return err
		}
	}
	return nil
}

// readSized calls a size-probing xattr syscall until the buffer fits.
func readSized(call func([]byte) (int, error)) ([]byte, error) {
	for {
		n, err := call(nil)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, nil
		}
		buf := make([]byte, n)
		n, err = call(buf)
		if errors.Is(err, syscall.ERANGE) {
			continue // grew in between
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

func splitNul(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			if i > start {
				out = append(out, string(b[start:i]))
			}
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, string(b[start:]))
	}
	return out
}
