package fsutil

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// Dirent is one directory entry as getdents64 reports it.
type Dirent struct {
	Name string
	Ino  uint64
	Type uint8 // unix.DT_REG, unix.DT_DIR, ...; unix.DT_UNKNOWN when the filesystem does not say
}

// direntBufSize holds a few hundred entries per getdents64 call.
const direntBufSize = 32 << 10

// direntBufs recycles getdents buffers: a walk lists thousands of
// directories, and a fresh 32 KiB each was most of its garbage.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, direntBufSize); return &b }}

// ReadDirents lists the directory open at fd, "." and ".." left out, with
// the inode number and type each entry carries. Callers that need only
// those (a devino cache lookup, telling files from directories) save a
// stat per entry, which dominates walking a large tree.
func ReadDirents(fd int, fn func(Dirent) error) error {
	return ReadDirentsRaw(fd, func(name []byte, ino uint64, typ uint8) error {
		return fn(Dirent{Name: string(name), Ino: ino, Type: typ})
	})
}

// ReadDirentsRaw is ReadDirents without a string per entry: name is only
// valid during the call.
func ReadDirentsRaw(fd int, fn func(name []byte, ino uint64, typ uint8) error) error {
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("getdents: %w", err)
		}
		if n <= 0 {
			return nil
		}
		// struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
		for off := 0; off < n; {
			rec := buf[off:n]
			if len(rec) < 19 {
				return fmt.Errorf("getdents: short record")
			}
			reclen := int(binary.NativeEndian.Uint16(rec[16:18]))
			if reclen < 19 || reclen > len(rec) {
				return fmt.Errorf("getdents: bad record length %d", reclen)
			}
			name := rec[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			off += reclen
			if string(name) == "." || string(name) == ".." {
				continue
			}
			if err := fn(name, binary.NativeEndian.Uint64(rec[0:8]), rec[18]); err != nil {
				return err
			}
		}
	}
}

// DirentInoReliable reports whether, on the filesystem of the open fd,
// getdents' d_ino is the st_ino stat gives and all files share the
// directory's st_dev, so (st_dev of the directory, d_ino) names an inode.
// That is true of the common local filesystems; overlayfs, for one, can
// report inode numbers of different layers under one device, so anything
// not known is answered false and the caller stats.
func DirentInoReliable(fd int) bool {
	var fs unix.Statfs_t
	if unix.Fstatfs(fd, &fs) != nil {
		return false
	}
	switch fs.Type {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.TMPFS_MAGIC, unix.BTRFS_SUPER_MAGIC:
		return true
	}
	return false
}
