package etcmerge

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/groveos/grove/core/internal/fsutil"
	"golang.org/x/sys/unix"
)

// CopyOptions say how files are copied.
type CopyOptions struct {
	// NoXattrs copies without extended attributes
	// (OSTREE_SYSROOT_DEBUG=no-xattrs).
	NoXattrs bool
}

// copyAttrs gives dst (a directory) src's xattrs, owner and mode, as
// dirfd_copy_attributes_and_xattrs does.
func copyAttrs(src, dst string, o CopyOptions) error {
	if !o.NoXattrs {
		xs, err := fsutil.ListXattrs(src)
		if err != nil {
			return err
		}
		if err := fsutil.SetXattrs(dst, xs); err != nil {
			return err
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(src, &st); err != nil {
		return err
	}
	if err := unix.Chown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("fchown: %w", err)
	}
	if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
		return fmt.Errorf("fchmod: %w", err)
	}
	return nil
}

// CopyDir copies the directory src to dst recursively (dst may exist),
// keeping owners, modes, xattrs and file timestamps: copy_dir_recurse.
func CopyDir(src, dst string, o CopyOptions) error {
	ents, err := readDirOrdered(src)
	if err != nil {
		return err
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		if !errors.Is(err, os.ErrExist) {
			return err
		}
		if st, err := os.Stat(dst); err != nil || !st.IsDir() {
			return fmt.Errorf("%s: %w", dst, unix.ENOTDIR)
		}
	}
	if err := copyAttrs(src, dst, o); err != nil {
		return fmt.Errorf("Copying attributes of %s: %w", filepath.Base(src), err)
	}
	for _, e := range ents {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		st, err := os.Lstat(s)
		if err != nil {
			return err
		}
		if st.IsDir() {
			if err := CopyDir(s, d, o); err != nil {
				return err
			}
			continue
		}
		if err := CopyFile(s, d, o); err != nil {
			return fmt.Errorf("Copying %s: %w", e.Name(), err)
		}
	}
	return nil
}

// CopyFile copies a regular file or symlink over dst (replacing it
// atomically), keeping owner, mode, xattrs and (for regular files) the
// access and modification times, like glnx_file_copy_at.
func CopyFile(src, dst string, o CopyOptions) error {
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(dst), fmt.Sprintf(".%s.tmp-%d", filepath.Base(dst), os.Getpid()))
	os.Remove(tmp)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, tmp); err != nil {
			return fmt.Errorf("symlinkat: %w", err)
		}
		if !o.NoXattrs {
			xs, err := fsutil.ListXattrs(src)
			if err == nil {
				err = fsutil.SetXattrs(tmp, xs)
			}
			if err != nil {
				os.Remove(tmp)
				return err
			}
		}
		if err := unix.Lchown(tmp, int(st.Uid), int(st.Gid)); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("fchownat: %w", err)
		}
	case unix.S_IFREG:
		if err := copyRegular(src, tmp, &st, o); err != nil {
			os.Remove(tmp)
			return err
		}
	default:
		return fmt.Errorf("Cannot copy non-regular/non-symlink file: %s", filepath.Base(src))
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func copyRegular(src, tmp string, st *unix.Stat_t, o CopyOptions) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	fd := int(out.Fd())
	if err := unix.Fchown(fd, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("fchown: %w", err)
	}
	if err := unix.Fchmod(fd, st.Mode&0o7777); err != nil {
		return fmt.Errorf("fchmod: %w", err)
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	unix.UtimesNanoAt(unix.AT_FDCWD, tmp, ts, 0)
	if !o.NoXattrs {
		xs, err := fsutil.FListXattrs(int(in.Fd()))
		if err != nil {
			return err
		}
		for _, x := range xs {
			if err := fsutil.FSetXattr(fd, x.Name, x.Value); err != nil {
				return fmt.Errorf("setxattr %s: %w", x.Name, err)
			}
		}
	}
	return out.Close()
}
