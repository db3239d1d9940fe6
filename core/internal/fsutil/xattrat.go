package fsutil

import (
	"errors"
	"runtime"
	"strconv"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// getxattrat and listxattrat (Linux 6.13) read extended attributes of a
// name relative to a directory descriptor: one name looked up instead of
// a whole path, which on deep repository paths costs more than the read.
// Their numbers are the same on every architecture.
const (
	sysGetxattrat  = 464
	sysListxattrat = 465
)

// noXattrat latches once the kernel says it lacks the *at calls.
var noXattrat atomic.Bool

type xattrArgs struct {
	value uint64
	size  uint32
	flags uint32
}

// GetxattrAt reads attribute name of path relative to dirfd without
// following a final symlink, into buf; it returns the value's length.
// Without kernel support it falls back to lgetxattr on full, the same
// file's path, or when full is "" on the path through /proc/self/fd.
func GetxattrAt(dirfd int, path, full, name string, buf []byte) (int, error) {
	if !noXattrat.Load() {
		p, err := unix.BytePtrFromString(path)
		if err != nil {
			return 0, err
		}
		n, err := unix.BytePtrFromString(name)
		if err != nil {
			return 0, err
		}
		args := xattrArgs{size: uint32(len(buf))}
		if len(buf) > 0 {
			args.value = uint64(uintptr(unsafe.Pointer(&buf[0])))
		}
		r, _, errno := unix.Syscall6(sysGetxattrat, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			unix.AT_SYMLINK_NOFOLLOW, uintptr(unsafe.Pointer(n)), uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args))
		runtime.KeepAlive(buf)
		if errno == 0 {
			return int(r), nil
		}
		if !errors.Is(errno, unix.ENOSYS) {
			return 0, errno
		}
		noXattrat.Store(true)
	}
	return unix.Lgetxattr(fullPath(dirfd, path, full), name, buf)
}

func fullPath(dirfd int, path, full string) string {
	if full != "" {
		return full
	}
	return "/proc/self/fd/" + strconv.Itoa(dirfd) + "/" + path
}

// ListxattrAt is GetxattrAt for the list of names.
func ListxattrAt(dirfd int, path, full string, buf []byte) (int, error) {
	if !noXattrat.Load() {
		p, err := unix.BytePtrFromString(path)
		if err != nil {
			return 0, err
		}
		var ptr uintptr
		if len(buf) > 0 {
			ptr = uintptr(unsafe.Pointer(&buf[0]))
		}
		r, _, errno := unix.Syscall6(sysListxattrat, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			unix.AT_SYMLINK_NOFOLLOW, ptr, uintptr(len(buf)), 0)
		runtime.KeepAlive(buf)
		if errno == 0 {
			return int(r), nil
		}
		if !errors.Is(errno, unix.ENOSYS) {
			return 0, errno
		}
		noXattrat.Store(true)
	}
	return unix.Llistxattr(fullPath(dirfd, path, full), buf)
}

// ListXattrsAt is ListXattrs for path relative to dirfd (full is the
// same file's path, for old kernels; "" goes through /proc/self/fd).
func ListXattrsAt(dirfd int, path, full string) ([]Xattr, error) {
	label := full
	if label == "" {
		label = path
	}
	names, err := listNames(label, func(buf []byte) (int, error) { return ListxattrAt(dirfd, path, full, buf) })
	if err != nil || len(names) == 0 {
		return nil, err
	}
	return getAll(names, func(n string) ([]byte, error) {
		buf := make([]byte, 256)
		for {
			sz, err := GetxattrAt(dirfd, path, full, n, buf)
			if errors.Is(err, unix.ERANGE) {
				if sz, err = GetxattrAt(dirfd, path, full, n, nil); err != nil {
					return nil, err
				}
				buf = make([]byte, sz+16)
				continue
			}
			if err != nil {
				return nil, err
			}
			return buf[:sz], nil
		}
	})
}
