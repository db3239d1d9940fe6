package sysroot

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
	"unicode/utf8"

	"github.com/groveos/grove/core/oid"
)

// kernelLayout is where a tree keeps its kernel, as
// get_kernel_from_tree finds it.
type kernelLayout struct {
	dir                            string // absolute directory holding the files
	kernelSrc, kernelNamever       string
	hmacSrc, hmacNamever           string
	initramfsSrc, initramfsNamever string
	// dtSrc is "devicetree" (installed as dtNamever) or "dtb", a
	// directory copied whole (dtNamever empty).
	dtSrc, dtNamever string
	bootcsum         string
}

// findKernel locates the kernel of the tree at root: usr/lib/modules/KVER
// first, then the legacy usr/lib/ostree-boot or boot with checksummed
// names; a legacy layout with an initramfs wins over a modules one without.
func findKernel(root string, noDTB bool) (*kernelLayout, error) {
	mod, err := kernelFromModules(root, noDTB)
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
	case mod != nil && mod.initramfsSrc == "" && legacy.initramfsSrc != "":
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

func kernelFromModules(root string, noDTB bool) (*kernelLayout, error) {
	modules := filepath.Join(root, "usr/lib/modules")
	ents, err := readDirOrdered(modules)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var l *kernelLayout
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		st, err := os.Stat(filepath.Join(modules, e.Name(), "vmlinuz"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("fstatat(%s/vmlinuz): %w", e.Name(), unwrapPathErr(err))
		}
		if !st.Mode().IsRegular() {
			continue
		}
		kver := e.Name()
		l = &kernelLayout{dir: filepath.Join(modules, kver), kernelSrc: "vmlinuz", kernelNamever: "vmlinuz-" + kver}
		break
	}
	if l == nil {
		return nil, nil
	}
	kver := strings.TrimPrefix(l.kernelNamever, "vmlinuz-")
	h := sha256.New()
	if _, err := hashFile(h, filepath.Join(l.dir, "vmlinuz")); err != nil {
		return nil, err
	}
	for _, name := range []string{"initramfs.img", "initramfs"} {
		ok, err := hashFile(h, filepath.Join(l.dir, name))
		if err != nil {
			return nil, err
		}
		if ok {
			l.initramfsSrc, l.initramfsNamever = name, "initramfs-"+kver+".img"
			break
		}
	}
	if !noDTB {
		ok, err := hashFile(h, filepath.Join(l.dir, "devicetree"))
		if err != nil {
			return nil, err
		}
		if ok {
			l.dtSrc, l.dtNamever = "devicetree", "devicetree-"+kver
		} else if st, err := os.Stat(filepath.Join(l.dir, "dtb")); err == nil && st.IsDir() {
			l.dtSrc = "dtb"
			if err := hashDir(h, filepath.Join(l.dir, "dtb")); err != nil {
				return nil, err
			}
		}
	}
	if _, err := os.Stat(filepath.Join(l.dir, ".vmlinuz.hmac")); err == nil {
		l.hmacSrc, l.hmacNamever = ".vmlinuz.hmac", "."+l.kernelNamever+".hmac"
	}
	l.bootcsum = hex.EncodeToString(h.Sum(nil))
	return l, nil
}

// hashFile feeds a file's bytes to h; a missing file is not an error.
func hashFile(h hash.Hash, p string) (bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
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

func kernelFromLegacy(root string) (*kernelLayout, error) {
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
			return nil, fmt.Errorf("openat(%s): %w", p, unwrapPathErr(err))
		}
		dir = d
		break
	}
	if dir == "" {
		return nil, nil
	}
	l := &kernelLayout{dir: dir}
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
		case l.kernelSrc == "" && strings.HasPrefix(name, "vmlinuz-"):
			if nv, c, ok := split(name); ok {
				kcsum, l.kernelSrc, l.kernelNamever = c, name, nv
			}
		case l.initramfsSrc == "" && strings.HasPrefix(name, "initramfs-"):
			if nv, c, ok := split(name); ok {
				icsum, l.initramfsSrc, l.initramfsNamever = c, name, nv
			}
		case l.dtSrc == "" && strings.HasPrefix(name, "devicetree-"):
			if nv, c, ok := split(name); ok {
				dcsum, l.dtSrc, l.dtNamever = c, name, nv
			}
		}
		if l.kernelSrc != "" && l.initramfsSrc != "" && l.dtSrc != "" {
			break
		}
	}
	if l.kernelSrc == "" {
		return nil, nil
	}
	if l.initramfsSrc != "" && kcsum != icsum {
		return nil, errf(ErrInvalid, "Mismatched kernel checksum vs initrd")
	}
	if l.dtSrc != "" && kcsum != dcsum {
		return nil, errf(ErrInvalid, "Mismatched kernel checksum vs device tree in tree")
	}
	l.bootcsum = kcsum
	return l, nil
}

// osReleaseTitle returns PRETTY_NAME (else ID) of the tree's
// usr/lib/os-release (else etc/os-release).
func osReleaseTitle(root string) (string, error) {
	p, what := filepath.Join(root, "usr/lib/os-release"), "/usr/lib/os-release"
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		p, what = filepath.Join(root, "etc/os-release"), "/etc/os-release"
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("Reading %s: %w", what, unwrapPathErr(err))
	}
	if !validText(data) {
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

// validText is g_utf8_validate with a length: valid UTF-8 without NULs.
func validText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }
