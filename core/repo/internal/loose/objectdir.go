package loose

import (
	"fmt"
	"path/filepath"
	"sync/atomic"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/oid"
	"golang.org/x/sys/unix"
)

// ObjectDir is an open handle on a loose object directory (a repository's
// objects/, or an archive repository's uncompressed-objects-cache/) for
// bulk readers that work with descriptors: checkout hardlinks from it,
// fsck and the fast readers open objects relative to it. Objects are
// addressed by name, so the layout stays in this package. Each fan-out
// directory is opened on first use, after which an object is one path
// component away. Safe for concurrent use; Close it when done.
type ObjectDir struct {
	path  string // for the messages and for kernels without getxattrat
	root  int
	mode  Mode   // how content is stored in it
	ext   string // extension of content objects: "file" or "filez"
	fanFd [256]atomic.Int32
}

// fan-out handle states besides fd+1.
const (
	fanUnopened = 0
	fanAbsent   = -1
)

// OpenObjectDir opens the repository's objects/ directory.
func (s *Store) OpenObjectDir() (*ObjectDir, error) {
	ext := "file"
	if s.mode == ModeArchive {
		ext = "filez"
	}
	return openObjectDir(filepath.Join(s.path, "objects"), s.mode, ext)
}

// OpenUncompressedCache opens an archive repository's
// uncompressed-objects-cache/, which holds content as bare-user-only style
// .file objects that user checkouts may hardlink; ok is false when there
// is none (or the repository is not archive, or core.enable-uncompressed-cache
// is false).
func (s *Store) OpenUncompressedCache() (d *ObjectDir, ok bool) {
	if s.mode != ModeArchive {
		return nil, false
	}
	if !s.uncompressedCache {
		return nil, false
	}
	d, err := openObjectDir(filepath.Join(s.path, "uncompressed-objects-cache"), ModeBareUserOnly, "file")
	return d, err == nil
}

func openObjectDir(path string, mode Mode, ext string) (*ObjectDir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("repo: open %s: %w", path, err)
	}
	return &ObjectDir{path: path, root: fd, mode: mode, ext: ext}, nil
}

// Close releases the handles.
func (d *ObjectDir) Close() error {
	for i := range d.fanFd {
		if v := d.fanFd[i].Swap(fanUnopened); v > 0 {
			unix.Close(int(v - 1))
		}
	}
	return unix.Close(d.root)
}

// Mode is how content objects are stored in the directory (an
// uncompressed cache holds bare-user-only objects).
func (d *ObjectDir) Mode() Mode { return d.mode }

// Dev is the device the directory lives on (hardlinks cannot leave it).
func (d *ObjectDir) Dev() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(d.root, &st); err != nil {
		return 0, fmt.Errorf("repo: stat %s: %w", d.path, err)
	}
	return st.Dev, nil
}

// ext is the extension of name's file in this directory.
func (d *ObjectDir) extOf(name oid.ObjectName) string {
	if name.Type == oid.File {
		return d.ext
	}
	return name.Type.String()
}

// at is the directory handle and the relative name of an object's file.
func (d *ObjectDir) at(name oid.ObjectName) (int, string) {
	hex := name.Checksum.String()
	i := name.Checksum[0]
	v := d.fanFd[i].Load()
	if v == fanUnopened {
		fd, err := unix.Openat(d.root, hex[:2], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		nv := int32(fanAbsent)
		if err == nil {
			nv = int32(fd + 1)
		}
		if d.fanFd[i].CompareAndSwap(fanUnopened, nv) {
			v = nv
		} else {
			if err == nil {
				unix.Close(fd)
			}
			v = d.fanFd[i].Load()
		}
	}
	if v > 0 {
		return int(v - 1), hex[2:] + "." + d.extOf(name)
	}
	return d.root, hex[:2] + "/" + hex[2:] + "." + d.extOf(name)
}

// full is the path of an object's file, for calls without an *at form.
func (d *ObjectDir) full(name oid.ObjectName) string {
	hex := name.Checksum.String()
	return d.path + "/" + hex[:2] + "/" + hex[2:] + "." + d.extOf(name)
}

// Open opens an object's file read-only (not following a symlink object).
func (d *ObjectDir) Open(name oid.ObjectName) (int, error) {
	dir, rel := d.at(name)
	for {
		fd, err := unix.Openat(dir, rel, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// Stat stats an object's file without following a symlink.
func (d *ObjectDir) Stat(name oid.ObjectName, st *unix.Stat_t) error {
	dir, rel := d.at(name)
	for {
		err := unix.Fstatat(dir, rel, st, unix.AT_SYMLINK_NOFOLLOW)
		if err != unix.EINTR {
			return err
		}
	}
}

// Readlink reads the target of an object stored as a symlink.
func (d *ObjectDir) Readlink(name oid.ObjectName, buf []byte) (int, error) {
	dir, rel := d.at(name)
	return unix.Readlinkat(dir, rel, buf)
}

// Getxattr reads attribute attr of an object's file into buf.
func (d *ObjectDir) Getxattr(name oid.ObjectName, attr string, buf []byte) (int, error) {
	dir, rel := d.at(name)
	return fsutil.GetxattrAt(dir, rel, d.full(name), attr, buf)
}

// UserMeta reads a bare-user object's user.ostreemeta attribute (uid,
// gid, mode and xattrs, in dirmeta's layout) into buf.
func (d *ObjectDir) UserMeta(name oid.ObjectName, buf []byte) (int, error) {
	return d.Getxattr(name, MetaXattr, buf)
}

// Link hardlinks an object's file as dname in the directory dfd. Errors
// are the raw errno, for callers that tell EEXIST, EXDEV and EMLINK apart.
func (d *ObjectDir) Link(name oid.ObjectName, dfd int, dname string) error {
	dir, rel := d.at(name)
	return unix.Linkat(dir, rel, dfd, dname, 0)
}
