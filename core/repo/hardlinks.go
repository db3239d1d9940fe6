package repo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

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
	return r.scanHardlinks(ctx, nil)
}

// ScanHardlinks is Repo.ScanHardlinks inside a transaction, which also
// remembers the dirtree and dirmeta objects the scan lists, so that
// writing an unchanged tree afterwards looks none of them up again. (The
// transaction's lock keeps prune from removing them meanwhile.)
func (tx *Txn) ScanHardlinks(ctx context.Context) (map[DevIno]oid.Checksum, error) {
	var mu sync.Mutex
	var meta []oid.ObjectName
	m, err := tx.r.scanHardlinks(ctx, func(names []oid.ObjectName) {
		mu.Lock()
		meta = append(meta, names...)
		mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	tx.mu.Lock()
	if tx.present == nil {
		tx.present = make(map[oid.ObjectName]bool, len(meta))
	}
	for _, n := range meta {
		tx.present[n] = true
	}
	tx.mu.Unlock()
	return m, nil
}

type scanned struct {
	key DevIno
	sum oid.Checksum
}

func (r *Repo) scanHardlinks(ctx context.Context, metaSeen func([]oid.ObjectName)) (map[DevIno]oid.Checksum, error) {
	if r.mode == ModeArchive {
		return map[DevIno]oid.Checksum{}, nil
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

	// Fan-out directories are listed on every core. Where the filesystem
	// allows, the inode numbers come from getdents itself: a stat per
	// object (what dominated a --link-checkout-speedup commit) tells
	// nothing new.
	scanDir := func(sub string, chunks *[][]scanned, found []scanned, meta []oid.ObjectName) ([]scanned, []oid.ObjectName, error) {
		fd, err := unix.Openat(rfd, sub, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			return found, meta, fmt.Errorf("repo: scan hardlinks: %s/%s: %w", root, sub, err)
		}
		defer unix.Close(fd)
		err = fsutil.ReadDirentsRaw(fd, func(name []byte, ino uint64, typ uint8) error {
			sum, ext, ok := parseLoose(sub, name)
			if !ok {
				return nil
			}
			switch ext {
			case "dirtree", "dirmeta":
				if metaSeen != nil && (typ == unix.DT_REG || typ == unix.DT_UNKNOWN) {
					t := oid.DirTree
					if ext == "dirmeta" {
						t = oid.DirMeta
					}
					meta = append(meta, oid.ObjectName{Checksum: sum, Type: t})
				}
				return nil
			case "file":
			default:
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
			if len(found) == cap(found) { // chunks: no copying of what was found
				*chunks = append(*chunks, found)
				found = make([]scanned, 0, 1024)
			}
			found = append(found, scanned{DevIno{dev, ino}, sum})
			return nil
		})
		if err != nil {
			err = fmt.Errorf("repo: scan hardlinks: %s/%s: %w", root, sub, err)
		}
		return found, meta, err
	}
	workers := min(runtime.GOMAXPROCS(0), 8)
	results := make([][][]scanned, workers)
	errs := make([]error, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var chunks [][]scanned
			found := make([]scanned, 0, 1024)
			var meta []oid.ObjectName
			for {
				i := int(next.Add(1)) - 1
				if i >= len(subs) {
					break
				}
				if errs[w] = ctx.Err(); errs[w] != nil {
					next.Store(int64(len(subs))) // stop the others too
					return
				}
				if found, meta, errs[w] = scanDir(subs[i], &chunks, found, meta); errs[w] != nil {
					next.Store(int64(len(subs)))
					return
				}
			}
			results[w] = append(chunks, found)
			if metaSeen != nil {
				metaSeen(meta)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	n := 0
	for _, chunks := range results {
		for _, c := range chunks {
			n += len(c)
		}
	}
	out := make(map[DevIno]oid.Checksum, n)
	for _, chunks := range results {
		for _, c := range chunks {
			for _, e := range c {
				out[e.key] = e.sum
			}
		}
	}
	return out, nil
}

// unhex maps a lowercase hex digit to its value, anything else to 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
	}
	return t
}()

// parseLoose names the object whose loose file in objects/sub is name
// ("<62 hex>.<ext>"); ext is one of file, dirtree, dirmeta, else "".
func parseLoose(sub string, name []byte) (sum oid.Checksum, ext string, ok bool) {
	const n = 2*oid.Size - 2
	if len(name) < n+2 || name[n] != '.' {
		return sum, "", false
	}
	switch string(name[n+1:]) {
	case "file":
		ext = "file"
	case "dirtree":
		ext = "dirtree"
	case "dirmeta":
		ext = "dirmeta"
	default:
		return sum, "", false
	}
	hi, lo := unhex[sub[0]], unhex[sub[1]]
	if hi|lo > 0xf {
		return sum, "", false
	}
	sum[0] = hi<<4 | lo
	for i := 1; i < oid.Size; i++ {
		hi, lo := unhex[name[2*i-2]], unhex[name[2*i-1]]
		if hi|lo > 0xf {
			return sum, "", false
		}
		sum[i] = hi<<4 | lo
	}
	return sum, ext, true
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
