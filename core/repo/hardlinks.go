package repo

import (
	"context"
	"fmt"
	"os"
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
	dirs, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("repo: scan hardlinks: %w", err)
	}
	for _, d := range dirs {
		if len(d.Name()) != 2 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir := filepath.Join(root, d.Name())
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("repo: scan hardlinks: %w", err)
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("repo: scan hardlinks: %w", err)
		}
		for _, e := range ents {
			base, ok := strings.CutSuffix(e.Name(), ".file")
			if !ok || !e.Type().IsRegular() {
				continue
			}
			sum, err := oid.Parse(d.Name() + base)
			if err != nil {
				continue
			}
			var st unix.Stat_t
			if err := unix.Fstatat(fd, e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				continue
			}
			out[DevIno{st.Dev, st.Ino}] = sum
		}
		unix.Close(fd)
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
