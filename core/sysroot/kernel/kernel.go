package kernel

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/groveos/grove/core/oid"
)

// Errors returned by this package; messages are libostree's.
var (
	ErrNoKernel = errors.New("kernel: no kernel in tree")
	ErrInvalid  = errors.New("kernel: invalid tree")
)

// kindError has libostree's message and matches a sentinel.
type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

func errf(kind error, format string, args ...any) error {
	return &kindError{kind, fmt.Errorf(format, args...)}
}

// pathErr reduces an *os.PathError to its errno text, capitalised as
// strerror prints it.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var no syscall.Errno
	if errors.As(err, &no) {
		m := no.Error()
		return &kindError{err, errors.New(strings.ToUpper(m[:1]) + m[1:])}
	}
	return err
}

// Layout is where a tree keeps its kernel, as libostree's
// get_kernel_from_tree finds it. The *Src fields name files in Dir, the
// *Name fields what they are installed as in boot/ostree/OS-BOOTCSUM.
type Layout struct {
	Dir                         string // absolute directory holding the files
	KernelSrc, KernelName       string
	HMACSrc, HMACName           string // "" when there is no .vmlinuz.hmac
	InitramfsSrc, InitramfsName string // "" when there is no initramfs
	// DevicetreeSrc is "devicetree" (installed as DevicetreeName) or
	// "dtb", a directory copied whole (DevicetreeName empty).
	DevicetreeSrc, DevicetreeName string
	// BootChecksum is the SHA-256 of kernel, initramfs and device trees
	// (modules layout) or the checksum in the legacy file names.
	BootChecksum string
}

// Find locates the kernel of the tree at root: usr/lib/modules/KVER
// first, then the legacy usr/lib/ostree-boot or boot with checksummed
// names; a legacy layout with an initramfs wins over a modules one without.
func Find(root string, noDTB bool) (*Layout, error) { return find(root, noDTB, true) }

// Locate is Find without reading the files: BootChecksum stays empty for a
// modules layout. For installing a deployment whose boot checksum is
// already known (its bootlink names it), it spares hashing a kernel and
// initramfs of tens of megabytes per deployment on every boot swap.
func Locate(root string, noDTB bool) (*Layout, error) { return find(root, noDTB, false) }

func find(root string, noDTB, checksum bool) (*Layout, error) {
	mod, err := kernelFromModules(root, noDTB, checksum)
	if err != nil {
		return nil, err
	}
	legacy, err := kernelFromLegacy(root)
	if err != nil {
		return nil, err
	}
	switch {
	case legacy == nil && mod == nil:
		return nil, errf(ErrNoKernel, "Failed to find kernel in /usr/lib/modules, /usr/lib/ostree-boot or /boot")
	case legacy == nil:
		return mod, nil
	case mod != nil && mod.InitramfsSrc == "" && legacy.InitramfsSrc != "":
		return legacy, nil
	case mod != nil:
		return mod, nil
	}
	return legacy, nil
}

// readDirOrdered lists a directory in on-disk order (readdir order).
func readDirOrdered(dir string) ([]os.DirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

func kernelFromModules(root string, noDTB, checksum bool) (*Layout, error) {
	modules := filepath.Join(root, "usr/lib/modules")
	ents, err := readDirOrdered(modules)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l *Layout
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		st, err := os.Stat(filepath.Join(modules, e.Name(), "vmlinuz"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fstatat(%s/vmlinuz): %w", e.Name(), pathErr(err))
		}
		if !st.Mode().IsRegular() {
			continue
		}
		kver := e.Name()
		l = &Layout{Dir: filepath.Join(modules, kver), KernelSrc: "vmlinuz", KernelName: "vmlinuz-" + kver}
		break
	}
	if l == nil {
		return nil, nil
	}
	kver := strings.TrimPrefix(l.KernelName, "vmlinuz-")
	var h hash.Hash // nil: only check which files exist
	if checksum {
		h = sha256.New()
	}
	if _, err := hashFile(h, filepath.Join(l.Dir, "vmlinuz")); err != nil {
		return nil, err
	}
	for _, name := range []string{"initramfs.img", "initramfs"} {
		ok, err := hashFile(h, filepath.Join(l.Dir, name))
		if err != nil {
			return nil, err
		}
		if ok {
			l.InitramfsSrc, l.InitramfsName = name, "initramfs-"+kver+".img"
			break
		}
	}
	if !noDTB {
		ok, err := hashFile(h, filepath.Join(l.Dir, "devicetree"))
		if err != nil {
			return nil, err
		}
		if ok {
			l.DevicetreeSrc, l.DevicetreeName = "devicetree", "devicetree-"+kver
		} else if st, err := os.Stat(filepath.Join(l.Dir, "dtb")); err == nil && st.IsDir() {
			l.DevicetreeSrc = "dtb"
			if h != nil {
				if err := hashDir(h, filepath.Join(l.Dir, "dtb")); err != nil {
					return nil, err
				}
			}
		}
	}
	if _, err := os.Stat(filepath.Join(l.Dir, ".vmlinuz.hmac")); err == nil {
		l.HMACSrc, l.HMACName = ".vmlinuz.hmac", "."+l.KernelName+".hmac"
	}
	if h != nil {
		l.BootChecksum = hex.EncodeToString(h.Sum(nil))
	}
	return l, nil
}

// hashFile feeds a file's bytes to h (with h nil it only checks that the
// file opens); a missing file is not an error.
func hashFile(h hash.Hash, p string) (bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if h == nil {
		return true, nil
	}
	if _, err := io.Copy(h, f); err != nil {
		return false, fmt.Errorf("reading %s: %w", p, err)
	}
	return true, nil
}

// hashDir feeds every file under dir, names sorted, recursively.
func hashDir(h hash.Hash, dir string) error {
	ents, err := readDirOrdered(dir)
	if err != nil {
		return err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if st.IsDir() {
			if err := hashDir(h, p); err != nil {
				return err
			}
			continue
		}
		if _, err := hashFile(h, p); err != nil {
			return err
		}
	}
	return nil
}

func kernelFromLegacy(root string) (*Layout, error) {
	var dir string
	var ents []os.DirEntry
	for _, p := range []string{"usr/lib/ostree-boot", "boot"} {
		d := filepath.Join(root, p)
		var err error
		ents, err = readDirOrdered(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("openat(%s): %w", p, pathErr(err))
		}
		dir = d
		break
	}
	if dir == "" {
		return nil, nil
	}
	l := &Layout{Dir: dir}
	var kcsum, icsum, dcsum string
	split := func(name string) (string, string, bool) {
		i := strings.LastIndexByte(name, '-')
		if !oid.IsChecksum(name[i+1:]) {
			return "", "", false
		}
		return name[:i], name[i+1:], true
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case l.KernelSrc == "" && strings.HasPrefix(name, "vmlinuz-"):
			if nv, c, ok := split(name); ok {
				kcsum, l.KernelSrc, l.KernelName = c, name, nv
			}
		case l.InitramfsSrc == "" && strings.HasPrefix(name, "initramfs-"):
			if nv, c, ok := split(name); ok {
				icsum, l.InitramfsSrc, l.InitramfsName = c, name, nv
			}
		case l.DevicetreeSrc == "" && strings.HasPrefix(name, "devicetree-"):
			if nv, c, ok := split(name); ok {
				dcsum, l.DevicetreeSrc, l.DevicetreeName = c, name, nv
			}
		}
		if l.KernelSrc != "" && l.InitramfsSrc != "" && l.DevicetreeSrc != "" {
			break
		}
	}
	if l.KernelSrc == "" {
		return nil, nil
	}
	if l.InitramfsSrc != "" && kcsum != icsum {
		return nil, errf(ErrInvalid, "Mismatched kernel checksum vs initrd")
	}
	if l.DevicetreeSrc != "" && kcsum != dcsum {
		return nil, errf(ErrInvalid, "Mismatched kernel checksum vs device tree in tree")
	}
	l.BootChecksum = kcsum
	return l, nil
}

// Title returns PRETTY_NAME (else ID) of the tree's
// usr/lib/os-release (else etc/os-release).
func Title(root string) (string, error) {
	p, what := filepath.Join(root, "usr/lib/os-release"), "/usr/lib/os-release"
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		p, what = filepath.Join(root, "etc/os-release"), "/etc/os-release"
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("Reading %s: %w", what, pathErr(err))
	}
	if !ValidText(data) {
		return "", fmt.Errorf("Reading %s: Invalid UTF-8", what)
	}
	vals := ParseOSRelease(string(data))
	if v, ok := vals["PRETTY_NAME"]; ok {
		return v, nil
	}
	if v, ok := vals["ID"]; ok {
		return v, nil
	}
	return "", errf(ErrInvalid, "No PRETTY_NAME or ID in /etc/os-release")
}

// ValidText is g_utf8_validate with a length: valid UTF-8 without NULs.
func ValidText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }
