package repo

import (
	"context"
	"encoding/hex"
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
func (r *Repo) ScanHardlinks(ctx context.Context) (map[DevIno]oid.Checksum, error) {
	out := make(map[DevIno]oid.Checksum, 8192)
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
		err = fsutil.ReadDirentsRaw(fd, func(name []byte, ino uint64, typ uint8) error {
			sum, ok := parseLooseFile(sub, name)
			if !ok {
				return nil
			}
			dev := rst.Dev
			if typ != unix.DT_REG || !reliable {
				if typ != unix.DT_UNKNOWN && typ != unix.DT_REG {
					return nil
				}
				var st unix.Stat_t
				if unix.Fstatat(fd, string(name), &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
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

// parseLooseFile names the content object whose loose file in objects/sub
// is name ("<62 hex>.file").
func parseLooseFile(sub string, name []byte) (sum oid.Checksum, ok bool) {
	const n = 2*oid.Size - 2
	if len(name) != n+len(".file") || string(name[n:]) != ".file" {
		return sum, false
	}
	var hexed [2 * oid.Size]byte
	copy(hexed[:], sub)
	copy(hexed[2:], name[:n])
	for _, c := range hexed {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return sum, false
		}
	}
	_, err := hex.Decode(sum[:], hexed[:])
	return sum, err == nil
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
