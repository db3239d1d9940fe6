package fsutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// WriteFileAtomic replaces path with data so that a crash leaves either
// the old or the new content. With sync it fsyncs the file and directory.
func WriteFileAtomic(path string, data []byte, perm os.FileMode, sync bool) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if sync {
		return SyncDir(dir)
	}
	return nil
}

// SyncDir fsyncs a directory so that renames inside it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

// Xattr is a name/value pair as read from the filesystem.
type Xattr struct {
	Name  string
	Value []byte
}

// ListXattrs reads the extended attributes of path (not following a final
// symlink), sorted by name; attributes with empty values are skipped as
// ostree does. Filesystems without xattr support yield none.
func ListXattrs(path string) ([]Xattr, error) {
	names, err := listNames(path, func(buf []byte) (int, error) { return unix.Llistxattr(path, buf) })
	if err != nil || len(names) == 0 {
		return nil, err
	}
	return getAll(names, func(n string) ([]byte, error) { return GetXattr(path, n) })
}

// FListXattrs is ListXattrs for an open file or directory: no path walk.
func FListXattrs(fd int) ([]Xattr, error) {
	names, err := listNames("open file", func(buf []byte) (int, error) { return unix.Flistxattr(fd, buf) })
	if err != nil || len(names) == 0 {
		return nil, err
	}
	return getAll(names, func(n string) ([]byte, error) {
		buf := make([]byte, 256)
		for {
			sz, err := unix.Fgetxattr(fd, n, buf)
			if errors.Is(err, unix.ERANGE) {
				if sz, err = unix.Fgetxattr(fd, n, nil); err != nil {
					return nil, err
				}
				buf = make([]byte, sz+16)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("getxattr %s: %w", n, err)
			}
			return buf[:sz], nil
		}
	})
}

func getAll(names []string, get func(string) ([]byte, error)) ([]Xattr, error) {
	out := make([]Xattr, 0, len(names))
	for _, n := range names {
		v, err := get(n)
		if err != nil {
			if errors.Is(err, unix.ENODATA) {
				continue
			}
			return nil, err
		}
		if len(v) > 0 {
			out = append(out, Xattr{n, v})
		}
	}
	return out, nil
}

func listNames(path string, list func([]byte) (int, error)) ([]string, error) {
	// Most files have no attributes: a pooled buffer spares every call
	// an allocation that a walk of thousands of entries feels.
	pb := nameBufs.Get().(*[]byte)
	defer nameBufs.Put(pb)
	buf := *pb
	for {
		n, err := list(buf)
		if errors.Is(err, unix.ERANGE) {
			sz, err := list(nil)
			if err != nil {
				return nil, fmt.Errorf("listxattr %s: %w", path, err)
			}
			buf = make([]byte, sz+64)
			continue
		}
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("listxattr %s: %w", path, err)
		}
		if n == 0 {
			return nil, nil
		}
		var names []string
		for _, s := range strings.Split(string(buf[:n]), "\x00") {
			if s != "" {
				names = append(names, s)
			}
		}
		sort.Strings(names)
		return names, nil
	}
}

var nameBufs = sync.Pool{New: func() any { b := make([]byte, 1024); return &b }}

// GetXattr reads one attribute without following a final symlink.
func GetXattr(path, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(path, name, buf)
		if errors.Is(err, unix.ERANGE) {
			sz, err := unix.Lgetxattr(path, name, nil)
			if err != nil {
				return nil, err
			}
			buf = make([]byte, sz+16)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("getxattr %s %s: %w", path, name, err)
		}
		return buf[:n], nil
	}
}

// SetXattrs applies attributes to path without following a final symlink.
func SetXattrs(path string, xs []Xattr) error {
	for _, x := range xs {
		if err := unix.Lsetxattr(path, x.Name, x.Value, 0); err != nil {
			return fmt.Errorf("setxattr %s %s: %w", path, x.Name, err)
		}
	}
	return nil
}

// FSetXattr sets one attribute on an open file.
func FSetXattr(fd int, name string, value []byte) error {
	return unix.Fsetxattr(fd, name, value, 0)
}
