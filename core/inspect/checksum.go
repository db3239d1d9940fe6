package inspect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
)

// ChecksumPath computes what `ostree checksum PATH` prints: the content
// checksum of a file or symlink (with its real uid, gid, mode and, unless
// ignoreXattrs, its xattrs), or the dirmeta checksum of a directory.
func ChecksumPath(ctx context.Context, path string, ignoreXattrs bool) (oid.Checksum, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return oid.Checksum{}, fmt.Errorf("inspect: %s: %w", path, err)
	}
	var xs []object.Xattr
	if !ignoreXattrs {
		var err error
		if xs, err = readXattrs(path); err != nil {
			return oid.Checksum{}, err
		}
	}
	mode := st.Mode
	if mode&object.ModeType == object.ModeDir {
		m := &object.DirMeta{UID: st.Uid, GID: st.Gid, Mode: mode, Xattrs: xs}
		return oid.Sum(m.Marshal()), nil
	}
	h := &object.FileHeader{UID: st.Uid, GID: st.Gid, Mode: mode, Xattrs: xs}
	switch mode & object.ModeType {
	case object.ModeLink:
		t, err := os.Readlink(path)
		if err != nil {
			return oid.Checksum{}, fmt.Errorf("inspect: %s: %w", path, err)
		}
		h.SymlinkTarget = t
		return object.ContentChecksum(h, nil)
	case object.ModeReg:
		f, err := os.Open(path)
		if err != nil {
			return oid.Checksum{}, fmt.Errorf("inspect: %s: %w", path, err)
		}
		defer f.Close()
		return object.ContentChecksum(h, f)
	}
	return object.ContentChecksum(h, nil)
}

// readXattrs lists a path's xattrs without following symlinks, sorted,
// skipping empty values as libglnx does.
func readXattrs(path string) ([]object.Xattr, error) {
	buf := make([]byte, 4096)
	for {
		n, err := unix.Llistxattr(path, buf)
		if errors.Is(err, syscall.ERANGE) {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if errors.Is(err, syscall.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("inspect: listing xattrs of %s: %w", path, err)
		}
		buf = buf[:n]
		break
	}
	var xs []object.Xattr
	for _, name := range strings.Split(string(buf), "\x00") {
		if name == "" {
			continue
		}
		val := make([]byte, 256)
		for {
			n, err := unix.Lgetxattr(path, name, val)
			if errors.Is(err, syscall.ERANGE) {
				val = make([]byte, len(val)*4)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("inspect: reading xattr %s of %s: %w", name, path, err)
			}
			val = val[:n]
			break
		}
		if len(val) > 0 {
			xs = append(xs, object.Xattr{Name: name, Value: val})
		}
	}
	object.SortXattrs(xs)
	return xs, nil
}
