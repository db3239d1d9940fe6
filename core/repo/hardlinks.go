package repo

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

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
func (r *Repo) ScanHardlinks(ctx context.Context) (map[DevIno]oid.Checksum, error) {
	out := map[DevIno]oid.Checksum{}
	if r.mode == ModeArchive {
		return out, nil
	}
	root := filepath.Join(r.path, "objects")
	rfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("repo: scan hardlinks: %w", err)
	}
	defer unix.Close(rfd)
	var rst unix.Stat_t
	if err := unix.Fstat(rfd, &rst); err != nil {
		return nil, fmt.Errorf("repo: scan hardlinks: %w", err)
	}
	reliable := fsutil.DirentInoReliable(rfd)
	var subs []string
	err = fsutil.ReadDirents(rfd, func(d fsutil.Dirent) error {
		if len(d.Name) == 2 {
			subs = append(subs, d.Name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repo: scan hardlinks: %s: %w", root, err)
	}
	// Where the filesystem allows, the inode numbers come from getdents
	// itself: a stat per object (what dominated a --link-checkout-speedup
	// commit) tells nothing new.
	for _, sub := range subs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fd, err := unix.Openat(rfd, sub, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			return nil, fmt.Errorf("repo: scan hardlinks: %s/%s: %w", root, sub, err)
		}
		err = fsutil.ReadDirents(fd, func(d fsutil.Dirent) error {
			base, ok := strings.CutSuffix(d.Name, ".file")
			if !ok {
				return nil
			}
			sum, err := oid.Parse(sub + base)
			if err != nil {
				return nil
			}
			dev, ino := rst.Dev, d.Ino
			if d.Type != unix.DT_REG || !reliable {
				if d.Type != unix.DT_UNKNOWN && d.Type != unix.DT_REG {
					return nil
				}
				var st unix.Stat_t
				if unix.Fstatat(fd, d.Name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
					return nil
				}
				dev, ino = st.Dev, st.Ino
			}
			out[DevIno{dev, ino}] = sum
			return nil
		})
		unix.Close(fd)
		if err != nil {
			return nil, fmt.Errorf("repo: scan hardlinks: %s/%s: %w", root, sub, err)
		}
	}
	return out, nil
}

// HardlinkHeader reads the header of the bare-user object that path is a
// hardlink of, from the user.ostreemeta xattr the inode carries: one
// syscall, where OpenFile would open, stat and close the object. Symlink
// objects (whose target is in the file's bytes) are not supported.
func HardlinkHeader(path string) (*object.FileHeader, error) {
	b, err := fsutil.GetXattr(path, ostreeMetaXattr)
	if err != nil {
		return nil, err
	}
	m, err := unmarshalUserMeta(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	h := &object.FileHeader{UID: m.UID, GID: m.GID, Mode: m.Mode, Xattrs: m.Xattrs}
	if h.IsSymlink() {
		return nil, fmt.Errorf("%w: %s holds a symlink object", ErrReadOnly, path)
	}
	return h, nil
}
