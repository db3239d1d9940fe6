package sysroot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/sysroot/bls"
	"github.com/groveos/grove/core/sysroot/etcmerge"
	"github.com/groveos/grove/core/sysroot/kernel"
	"golang.org/x/sys/unix"
)

// installKernel is install_deployment_kernel: kernel, initramfs,
// devicetree and HMAC into boot/ostree/OS-BOOTCSUM (hardlinked when
// possible), then the deployment's entry in boot/loader.BV/entries.
func (s *Sysroot) installKernel(ctx context.Context, bv int, d *Deployment, n int, showOS bool, appendKV [][2]string) error {
	root := s.abs(d.Dir())
	kl, err := kernel.Locate(root, s.debug.NoDTB) // the boot checksum is d.BootChecksum
	if err != nil {
		return err
	}
	bootcsumDir := fmt.Sprintf("ostree/%s-%s", d.Stateroot, d.BootChecksum)
	bootDir := s.abs("boot/" + bootcsumDir)
	if err := os.MkdirAll(bootDir, 0o775); err != nil {
		return err
	}
	confDir := s.abs(fmt.Sprintf("boot/loader.%d/entries", bv))
	if err := os.MkdirAll(confDir, 0o775); err != nil {
		return err
	}
	install := func(src, name string) error {
		if _, err := os.Stat(filepath.Join(bootDir, name)); err == nil {
			return nil
		}
		return installIntoBoot(filepath.Join(kl.Dir, src), filepath.Join(bootDir, name))
	}
	if err := install(kl.KernelSrc, kl.KernelName); err != nil {
		return err
	}
	if kl.InitramfsSrc != "" {
		if err := install(kl.InitramfsSrc, kl.InitramfsName); err != nil {
			return err
		}
	}
	if kl.DevicetreeSrc != "" {
		if kl.DevicetreeName != "" {
			if err := install(kl.DevicetreeSrc, kl.DevicetreeName); err != nil {
				return err
			}
		} else if err := etcmerge.CopyDir(filepath.Join(kl.Dir, kl.DevicetreeSrc), filepath.Join(bootDir, kl.DevicetreeSrc), etcmerge.CopyOptions{NoXattrs: s.debug.NoXattrs}); err != nil {
			return err
		}
	}
	if kl.HMACSrc != "" {
		if err := install(kl.HMACSrc, kl.HMACName); err != nil {
			return err
		}
	}
	var overlays []string
	for _, sum := range d.OverlayInitrds {
		rel := "ostree/initramfs-overlays/" + sum + ".img"
		if overlays == nil {
			if err := os.MkdirAll(s.abs("boot/ostree/initramfs-overlays"), 0o755); err != nil {
				return err
			}
		}
		if _, err := os.Stat(s.abs("boot/" + rel)); errors.Is(err, os.ErrNotExist) {
			if err := installIntoBoot(filepath.Join(s.env.Run, "ostree/staged-initrds", sum), s.abs("boot/"+rel)); err != nil {
				return err
			}
		}
		overlays = append(overlays, "/"+rel)
	}

	title, err := kernel.Title(root)
	if err != nil {
		return err
	}
	if v, ok := s.commitVersion(ctx, d.Checksum); ok && v != "" && !strings.Contains(title, v) {
		title += " " + v
	}
	title += " (ostree"
	if showOS {
		title += ":" + d.Stateroot
	}
	title += ":" + strconv.Itoa(d.Index) + ")"
	if d.Boot == nil {
		d.Boot = bls.NewEntry()
	}
	e := d.Boot
	e.Set("title", title)
	e.Set("version", strconv.Itoa(n-d.Index))
	e.Set("linux", "/"+bootcsumDir+"/"+kl.KernelName)
	kargs := bls.ParseKernelArgs(e.Value("options"))
	if _, ok := e.Get("options"); !ok {
		kargs = &bls.KernelArgs{}
	}
	if kl.InitramfsName != "" {
		e.Set("initrd", "/"+bootcsumDir+"/"+kl.InitramfsName)
		if overlays != nil {
			e.SetOverlayInitrds(overlays)
		}
	} else {
		kargs.Replace(fmt.Sprintf("init=/ostree/boot.%d/%s/%s/%d/usr/lib/ostree/ostree-prepare-root", bv, d.Stateroot, d.BootChecksum, d.BootSerial))
	}
	if kl.DevicetreeName != "" {
		e.Set("devicetree", "/"+bootcsumDir+"/"+kl.DevicetreeName)
	} else if kl.DevicetreeSrc != "" {
		e.Set("fdtdir", "/"+bootcsumDir+"/"+kl.DevicetreeSrc)
	}
	kargs.Replace(fmt.Sprintf("ostree=/ostree/boot.%d/%s/%s/%d", bv, d.Stateroot, d.BootChecksum, d.BootSerial))
	e.Set("options", kargs.String())
	if d.Index != 0 {
		for _, kv := range appendKV {
			e.Set(kv[0], kv[1])
		}
	}
	name := fmt.Sprintf("ostree-%d-%s.conf", n-d.Index, d.Stateroot)
	return fsutil.WriteFileAtomic(filepath.Join(confDir, name), e.Bytes(), 0o644, false)
}

// installIntoBoot hardlinks src to dst, or copies it (owner, mode, then
// fdatasync) when they are on different file systems.
func installIntoBoot(src, dst string) error {
	err := os.Link(src, dst)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EXDEV) && !errors.Is(err, unix.EMLINK) {
		return fmt.Errorf("linkat(%s): %w", filepath.Base(dst), unwrapPathErr(err))
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(in.Fd()), &st); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-"+filepath.Base(dst)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, in); err != nil {
		return fmt.Errorf("regfile copy: %w", err)
	}
	if err := tmp.Chown(int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("fchown: %w", err)
	}
	if err := tmp.Chmod(os.FileMode(st.Mode & 0o777)); err != nil {
		return fmt.Errorf("fchmod: %w", err)
	}
	if err := unix.Fchmod(int(tmp.Fd()), st.Mode&0o7777); err != nil {
		return fmt.Errorf("fchmod: %w", err)
	}
	if err := unix.Fdatasync(int(tmp.Fd())); err != nil {
		return fmt.Errorf("fdatasync: %w", err)
	}
	if err := os.Link(tmp.Name(), dst); err != nil {
		return fmt.Errorf("linkat(%s): %w", filepath.Base(dst), unwrapPathErr(err))
	}
	return nil
}
