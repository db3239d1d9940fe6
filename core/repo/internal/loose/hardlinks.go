package loose

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"golang.org/x/sys/unix"
)

// DevIno identifies an inode.
type DevIno struct{ Dev, Ino uint64 }

// ScanHardlinks maps the inode of every loose content object to its
// checksum, like ostree_repo_scan_hardlinks: a commit of a hardlink
// checkout can then name unchanged files without reading them
// (--link-checkout-speedup). Archive repositories have no such inodes.
func (s *Store) ScanHardlinks(ctx context.Context) (map[DevIno]oid.Checksum, error) {
	return s.ScanHardlinksSeeing(ctx, nil)
}

type scanned struct {
	key DevIno
	sum oid.Checksum
}

// hardlinkScan is one scan goroutine's findings, kept in chunks so that
// nothing found is ever copied while growing.
type hardlinkScan struct {
	chunks [][]scanned
	found  []scanned
	meta   []oid.ObjectName
}

// ScanHardlinksSeeing is ScanHardlinks that also hands the dirtree and
// dirmeta objects it lists to metaSeen (one call per scan goroutine).
func (s *Store) ScanHardlinksSeeing(ctx context.Context, metaSeen func([]oid.ObjectName)) (map[DevIno]oid.Checksum, error) {
	if s.mode == ModeArchive {
		return map[DevIno]oid.Checksum{}, nil
	}
	root := filepath.Join(s.path, "objects")
	var rst unix.Stat_t
	if err := unix.Stat(root, &rst); err != nil {
		return nil, fmt.Errorf("repo: scan hardlinks: %w", err)
	}
	reliable := direntInoReliable(root)
	// Where the filesystem allows, the inode numbers come from getdents
	// itself: a stat per object (what dominated a --link-checkout-speedup
	// commit) tells nothing new.
	var per [8]hardlinkScan
	workers, err := s.scanLoose(ctx, func(e *looseEntry) error {
		sum, typ, ok := parseLooseName(e.sub, e.name)
		if !ok {
			return nil
		}
		w := &per[e.worker]
		switch typ {
		case oid.DirTree, oid.DirMeta:
			if metaSeen != nil && (e.typ == unix.DT_REG || e.typ == unix.DT_UNKNOWN) {
				w.meta = append(w.meta, oid.ObjectName{Checksum: sum, Type: typ})
			}
			return nil
		case oid.File:
		default:
			return nil
		}
		dev, ino := rst.Dev, e.ino
		if e.typ != unix.DT_REG || !reliable {
			if e.typ != unix.DT_UNKNOWN && e.typ != unix.DT_REG {
				return nil
			}
			var st unix.Stat_t
			if unix.Fstatat(e.dirfd, string(e.name), &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
				return nil
			}
			dev, ino = st.Dev, st.Ino
		}
		if len(w.found) == cap(w.found) {
			if len(w.found) > 0 {
				w.chunks = append(w.chunks, w.found)
			}
			w.found = make([]scanned, 0, 1024)
		}
		w.found = append(w.found, scanned{DevIno{dev, ino}, sum})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repo: scan hardlinks: %w", err)
	}
	n := 0
	for i := range per[:workers] {
		w := &per[i]
		w.chunks = append(w.chunks, w.found)
		for _, c := range w.chunks {
			n += len(c)
		}
	}
	out := make(map[DevIno]oid.Checksum, n)
	for _, w := range per[:workers] {
		for _, c := range w.chunks {
			for _, e := range c {
				out[e.key] = e.sum
			}
		}
		if metaSeen != nil {
			metaSeen(w.meta)
		}
	}
	return out, nil
}

// direntInoReliable reports whether getdents' d_ino equals st_ino for the
// files under dir.
func direntInoReliable(dir string) bool {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return fsutil.DirentInoReliable(fd)
}

// HardlinkHeader reads the header of the bare-user object that path is a
// hardlink of, from the user.ostreemeta xattr the inode carries: one
// syscall, where OpenFile would open, stat and close the object. Symlink
// objects (whose target is in the file's bytes) are not supported.
func HardlinkHeader(path string) (*object.FileHeader, error) {
	b, err := fsutil.GetXattr(path, MetaXattr)
	if err != nil {
		return nil, err
	}
	m, err := UnmarshalUserMeta(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	h := &object.FileHeader{UID: m.UID, GID: m.GID, Mode: m.Mode, Xattrs: m.Xattrs}
	if h.IsSymlink() {
		return nil, fmt.Errorf("%w: %s holds a symlink object", ErrReadOnly, path)
	}
	return h, nil
}
