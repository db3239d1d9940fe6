package sysroottest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sysroot"
)

// KernelVersion is the fake kernel's version directory.
const KernelVersion = "3.6.0"

// Tree describes a fake OS tree.
type Tree struct {
	// Kernel and Initramfs are the contents of usr/lib/modules/KVER/
	// vmlinuz and initramfs.img ("a kernel\n", "an initramfs\n" when empty).
	Kernel, Initramfs string
	// NoKernel leaves the kernel out (a tree ostree cannot deploy).
	NoKernel bool
	// NoInitramfs leaves the initramfs out.
	NoInitramfs bool
	// Binary is usr/bin/sh ("an executable\n" when empty).
	Binary string
	// Etc replaces or adds files under usr/etc (path → content; "" removes).
	Etc map[string]string
	// Files adds files anywhere (path → content).
	Files map[string]string
	// EtcAtRoot also creates etc/ beside usr/etc.
	EtcAtRoot bool
	// PrettyName is os-release's PRETTY_NAME ("TestOS 42" when empty).
	PrettyName string
	// Legacy puts the kernel in this directory (usr/lib/ostree-boot or
	// boot) with the boot checksum in the file names, the pre-modules
	// layout.
	Legacy string
	// Devicetree adds usr/lib/modules/KVER/devicetree; DTB adds files
	// under usr/lib/modules/KVER/dtb/ instead.
	Devicetree string
	DTB        map[string]string
	// HMAC adds usr/lib/modules/KVER/.vmlinuz.hmac.
	HMAC bool
}

// DefaultEtc is the usr/etc of every fake tree before Tree.Etc applies.
func DefaultEtc(prettyName string) map[string]string {
	if prettyName == "" {
		prettyName = "TestOS 42"
	}
	return map[string]string{
		"os-release":                  fmt.Sprintf("NAME=TestOS\nVERSION=42\nID=testos\nVERSION_ID=42\nPRETTY_NAME=\"%s\"\n", prettyName),
		"aconfigfile":                 "a config file\n",
		"NetworkManager/nm.conf":      "a default daemon file\n",
		"testdirectory/test":          "a default daemon file\n",
		"systemd/system/multi.target": "[Unit]\nDescription=Multi-User\n",
	}
}

// Write fills dir (created) with the tree.
func (t Tree) Write(dir string) error {
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	files := map[string]string{
		"usr/bin/sh":          or(t.Binary, "an executable\n"),
		"usr/share/langs.txt": "some shared data\n",
		"usr/lib/libfoo.so.0": "a library\n",
	}
	kdir := "usr/lib/modules/" + KernelVersion + "/"
	kernel, initramfs := or(t.Kernel, "a kernel\n"), or(t.Initramfs, "an initramfs\n")
	switch {
	case t.NoKernel:
		files[kdir+"modules.dep"] = "\n"
	case t.Legacy != "":
		files[kdir+"modules.dep"] = "\n"
		sum := kernel
		if !t.NoInitramfs {
			sum += initramfs
		}
		csum := fmt.Sprintf("%x", sha256.Sum256([]byte(sum)))
		files[t.Legacy+"/vmlinuz-"+KernelVersion+"-"+csum] = kernel
		if !t.NoInitramfs {
			files[t.Legacy+"/initramfs-"+KernelVersion+".img-"+csum] = initramfs
		}
	default:
		files[kdir+"vmlinuz"] = kernel
		if !t.NoInitramfs {
			files[kdir+"initramfs.img"] = initramfs
		}
		if t.Devicetree != "" {
			files[kdir+"devicetree"] = t.Devicetree
		}
		for k, v := range t.DTB {
			files[kdir+"dtb/"+k] = v
		}
		if t.HMAC {
			files[kdir+".vmlinuz.hmac"] = "an hmac file\n"
		}
	}
	etc := DefaultEtc(t.PrettyName)
	for k, v := range t.Etc {
		if v == "" {
			delete(etc, k)
		} else {
			etc[k] = v
		}
	}
	for k, v := range etc {
		files["usr/etc/"+k] = v
	}
	for k, v := range t.Files {
		files[k] = v
	}
	if t.EtcAtRoot {
		files["etc/hostname"] = "localhost\n"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p := filepath.Join(dir, k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if k == "usr/bin/sh" {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(files[k]), mode); err != nil {
			return err
		}
	}
	if err := os.Symlink("usr/bin", filepath.Join(dir, "bin")); err != nil && !os.IsExist(err) {
		return err
	}
	return nil
}

// Commit commits dir to ref in r with a "version" metadata string and a
// fixed timestamp, so that grove and ostree produce the same checksum
// (`ostree commit --add-metadata-string version=V --timestamp=@TS -s SUBJ`).
func Commit(ctx context.Context, r *repo.Repo, dir, ref, subject, version string, ts time.Time) (oid.Checksum, error) {
	tx, err := r.Begin(ctx)
	if err != nil {
		return oid.Checksum{}, err
	}
	defer tx.Abort()
	root, err := compose.ImportDir(ctx, tx, dir, compose.ImportOptions{})
	if err != nil {
		return oid.Checksum{}, err
	}
	var meta []gvariant.DictEntry
	if version != "" {
		meta = append(meta, gvariant.DictEntry{Key: "version", Value: gvariant.NewVariant("s", version)})
	}
	var parent oid.Checksum
	if ref != "" {
		if p, err := r.ReadRef(ctx, "", ref); err == nil {
			parent = p
		}
	}
	sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{
		Subject: subject, Parent: parent, Timestamp: ts, Metadata: meta, Branch: ref,
	})
	if err != nil {
		return sum, err
	}
	return sum, tx.Commit(ctx)
}

// NewSysroot makes dir (created) a sysroot with one stateroot, like
// `ostree admin init-fs DIR && ostree admin os-init STATEROOT`.
func NewSysroot(ctx context.Context, dir, stateroot string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := sysroot.InitFS(ctx, dir, sysroot.InitFSOptions{}); err != nil {
		return err
	}
	s, err := sysroot.Open(ctx, dir, sysroot.Options{})
	if err != nil {
		return err
	}
	return s.InitStateroot(ctx, stateroot)
}
