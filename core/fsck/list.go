package fsck

import (
	"encoding/binary"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"golang.org/x/sys/unix"
)

// listCommits finds the commit objects of r (not of a parent) by reading
// the 256 directories of objects/ with raw getdents on every core, looking
// only at names: repo.ListObjects reads them one at a time and allocates
// every name, which made enumerating commits a tenth of a whole fsck. Any
// error gives up (false) and the caller uses ListObjects, whose errors
// are the ones reported.
func listCommits(r *repo.Repo) ([]oid.Checksum, bool) {
	objs, err := unix.Open(filepath.Join(r.Path(), "objects"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(objs)
	var per [256][]oid.Checksum
	var next atomic.Int32
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			buf := make([]byte, 32<<10)
			for {
				i := int(next.Add(1) - 1)
				if i >= 256 || failed.Load() {
					return
				}
				sums, ok := commitsIn(objs, i, buf)
				if !ok {
					failed.Store(true)
					return
				}
				per[i] = sums
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		return nil, false
	}
	var all []oid.Checksum
	for _, s := range per {
		all = append(all, s...)
	}
	return all, true
}

const hexDigits = "0123456789abcdef"

// commitsIn lists objects/XX/*.commit for XX = hex(i).
func commitsIn(objs, i int, buf []byte) ([]oid.Checksum, bool) {
	dir := string([]byte{hexDigits[i>>4], hexDigits[i&15]})
	fd, err := unix.Openat(objs, dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		return nil, true
	}
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	var sums []oid.Checksum
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if n == 0 {
			return sums, true
		}
		for b := buf[:n]; len(b) >= 19; {
			// struct linux_dirent64: ino, off, reclen, type, name.
			reclen := int(binary.NativeEndian.Uint16(b[16:]))
			if reclen < 19 || reclen > len(b) {
				return nil, false
			}
			name := b[19:reclen]
			for j, c := range name {
				if c == 0 {
					name = name[:j]
					break
				}
			}
			b = b[reclen:]
			const ext = ".commit"
			if len(name) != 62+len(ext) || string(name[62:]) != ext {
				continue
			}
			sum, err := oid.Parse(dir + string(name[:62]))
			if err != nil {
				continue
			}
			sums = append(sums, sum)
		}
	}
}
