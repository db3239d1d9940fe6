package sysroot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/sysroot/bls"
	"golang.org/x/sys/unix"
)

// WriteOptions configure WriteDeployments.
type WriteOptions struct {
	// PostClean runs Cleanup (with a repository prune) afterwards.
	PostClean bool
}

// WriteDeployments makes list the deployment list, like
// ostree_sysroot_write_deployments_with_options: when only bootlinks
// change it swaps ostree/boot.N; otherwise it writes the other
// boot/loader.N' (entries, kernels, bootlinks) and makes it live with one
// rename of boot/loader. The deployments must exist on disk. The caller
// holds the lock.
func (s *Sysroot) WriteDeployments(ctx context.Context, list []*Deployment, opts WriteOptions) error {
	if err := s.writeDeployments(ctx, list); err != nil {
		return err
	}
	if opts.PostClean {
		if _, err := s.Cleanup(ctx, CleanupOptions{Prune: true}); err != nil {
			return fmt.Errorf("Performing final cleanup: %w", err)
		}
	}
	return nil
}

func (s *Sysroot) writeDeployments(ctx context.Context, list []*Deployment) error {
	removedStaged := s.stagedDep != nil
	var nonstaged []*Deployment
	if len(list) > 0 {
		if list[0] == s.stagedDep {
			removedStaged = false
		}
		for _, d := range list {
			if !d.Staged {
				nonstaged = append(nonstaged, d)
			}
		}
		list = nonstaged
	}
	if removedStaged {
		if err := s.dropStaged(); err != nil {
			return err
		}
	}
	current := s.deployments
	assignBootserials(list)

	newBootversion := len(list) != len(current)
	if !newBootversion {
		noop := true
		for i, d := range list {
			cur := current[i]
			if cur.Staged {
				continue
			}
			if !s.bootconfigsEqual(ctx, cur, d) {
				newBootversion, noop = true, false
				break
			}
			if cur != d {
				noop = false
			}
		}
		if noop {
			if removedStaged {
				return s.finishWrite(ctx)
			}
			return nil
		}
	}

	foundBooted := false
	for i, d := range list {
		if d == s.bootedDep || (s.bootedDep != nil && d.Equal(s.bootedDep)) {
			foundBooted = true
		}
		if _, err := os.Stat(s.abs(d.Dir())); err != nil {
			return errf(ErrInvalid, "Unable to find expected deployment root: %s", s.abs(d.Dir()))
		}
		d.Index = i
	}
	if s.bootedDep != nil && !foundBooted {
		return errf(ErrBooted, "Attempting to remove booted deployment")
	}

	atomic := true
	var subbootdir string
	var err error
	if !newBootversion {
		if subbootdir, err = s.swapBootlinksOnly(ctx, list); err != nil {
			return err
		}
	} else {
		if err := s.CheckBootloader(); err != nil {
			return err
		}
		atomic = false // no boot loader backend: "Bootloader updated"
		if subbootdir, err = s.bootswap(ctx, list); err != nil {
			return err
		}
	}
	what := "Bootloader updated"
	if atomic {
		what = "Transaction complete"
	}
	swap := "no"
	if newBootversion {
		swap = "yes"
	}
	s.msg("%s; bootconfig swap: %s; bootversion: %s, deployment count change: %d", what, swap, subbootdir, len(list)-len(current))
	return s.finishWrite(ctx)
}

// finishWrite bumps the mtime, reloads and drops legacy "current" links.
func (s *Sysroot) finishWrite(ctx context.Context) error {
	if err := s.bumpMtime(); err != nil {
		return err
	}
	if err := s.Load(ctx); err != nil {
		return fmt.Errorf("Reloading deployments after commit: %w", err)
	}
	for _, d := range s.deployments {
		if err := removeIfExists(s.abs("ostree/deploy/" + d.Stateroot + "/current")); err != nil {
			return err
		}
	}
	return nil
}

func removeIfExists(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// dropStaged removes the staged deployment's state and directory.
func (s *Sysroot) dropStaged() error {
	if err := os.Remove(filepath.Join(s.env.Run, "ostree/staged-deployment")); err != nil {
		return err
	}
	if err := s.rmDeployment(s.stagedDep); err != nil {
		return err
	}
	if err := removeIfExists(filepath.Join(s.env.Run, "ostree/staged-deployment-locked")); err != nil {
		return err
	}
	s.stagedDep = nil
	if len(s.deployments) > 0 && s.deployments[0].Staged {
		s.deployments = s.deployments[1:]
	}
	return nil
}

// assignBootserials numbers deployments sharing a boot checksum.
func assignBootserials(list []*Deployment) {
	seen := map[string]int{}
	for _, d := range list {
		d.BootSerial = seen[d.BootChecksum]
		seen[d.BootChecksum]++
	}
}

// bootconfigsEqual is deployment_bootconfigs_equal: same kernel, overlay
// initrds, kernel arguments (ostree= aside) and commit version.
func (s *Sysroot) bootconfigsEqual(ctx context.Context, a, b *Deployment) bool {
	if a.BootChecksum != b.BootChecksum || a.overlayID() != b.overlayID() {
		return false
	}
	nonostree := func(d *Deployment) string {
		k := bls.ParseKernelArgs(d.Kargs())
		k.Replace("ostree")
		return k.String()
	}
	if nonostree(a) != nonostree(b) {
		return false
	}
	av, aok := s.commitVersion(ctx, a.Checksum)
	bv, bok := s.commitVersion(ctx, b.Checksum)
	return aok == bok && av == bv
}

// commitVersion is the commit's "version" metadata, if the commit loads.
func (s *Sysroot) commitVersion(ctx context.Context, csum string) (string, bool) {
	sum, err := oid.Parse(csum)
	if err != nil {
		return "", false
	}
	c, err := s.repo.LoadCommit(ctx, sum)
	if err != nil {
		return "", false
	}
	v, ok := c.Lookup("version")
	if !ok {
		return "", false
	}
	str, ok := v.Value.(string)
	return str, ok
}

// swapBootlinksOnly writes ostree/boot.N.(1-M) and swaps ostree/boot.N.
func (s *Sysroot) swapBootlinksOnly(ctx context.Context, list []*Deployment) (string, error) {
	if err := s.createBootlinks(ctx, s.bootversion, list); err != nil {
		return "", err
	}
	if err := s.syncAll(); err != nil {
		return "", err
	}
	return s.swapBootlinks(s.bootversion)
}

// subbootFor is the sub-bootversion bootlinks for bv are written at next.
func (s *Sysroot) nextSubboot(bv int) (int, error) {
	old := s.subboot
	if bv != s.bootversion {
		var err error
		if old, err = s.readSubbootversion(bv); err != nil {
			return 0, err
		}
	}
	return 1 - old, nil
}

// createBootlinks fills ostree/boot.BV.SUB with one link per deployment.
func (s *Sysroot) createBootlinks(ctx context.Context, bv int, list []*Deployment) error {
	sub, err := s.nextSubboot(bv)
	if err != nil {
		return fmt.Errorf("Creating new current bootlinks: %w", err)
	}
	dir := s.abs(fmt.Sprintf("ostree/boot.%d.%d", bv, sub))
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("Creating new current bootlinks: %w", err)
	}
	for _, d := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		parent := filepath.Join(dir, d.Stateroot, d.BootChecksum)
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return fmt.Errorf("Creating new current bootlinks: %w", err)
		}
		target := "../../../deploy/" + d.Stateroot + "/deploy/" + d.Name()
		if err := symlinkReplace(target, filepath.Join(parent, fmt.Sprint(d.BootSerial))); err != nil {
			return fmt.Errorf("Creating new current bootlinks: %w", err)
		}
	}
	return nil
}

// swapBootlinks points ostree/boot.BV at the new sub-bootversion.
func (s *Sysroot) swapBootlinks(bv int) (string, error) {
	sub, err := s.nextSubboot(bv)
	if err != nil {
		return "", fmt.Errorf("Swapping new version bootlinks: %w", err)
	}
	name := fmt.Sprintf("boot.%d.%d", bv, sub)
	if err := symlinkReplace(name, s.abs(fmt.Sprintf("ostree/boot.%d", bv))); err != nil {
		return "", fmt.Errorf("Swapping new version bootlinks: %w", err)
	}
	return name, nil
}

// symlinkReplace atomically makes link point at target (via link.tmp).
func symlinkReplace(target, link string) error {
	tmp := link + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("symlinkat: %w", unwrapPathErr(err))
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("renameat: %w", unwrapPathErr(err))
	}
	return nil
}

// bootswap writes boot/loader.N' and bootlinks for it, then renames
// boot/loader.tmp over boot/loader: the one switch point.
func (s *Sysroot) bootswap(ctx context.Context, list []*Deployment) (string, error) {
	nbv := 1 - s.bootversion
	entries := s.abs(fmt.Sprintf("boot/loader.%d/entries", nbv))
	if err := os.RemoveAll(entries); err != nil {
		return "", err
	}
	if err := os.MkdirAll(entries, 0o755); err != nil {
		return "", err
	}
	showOS := false
	for _, d := range list[min(1, len(list)):] {
		if d.Stateroot != list[0].Stateroot {
			showOS = true
			break
		}
	}
	appendKV, err := s.blsAppend()
	if err != nil {
		return "", err
	}
	for _, d := range list {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if err := s.installKernel(ctx, nbv, d, len(list), showOS, appendKV); err != nil {
			return "", fmt.Errorf("Installing kernel: %w", err)
		}
	}
	if err := s.createBootlinks(ctx, nbv, list); err != nil {
		return "", err
	}
	sub, err := s.swapBootlinks(nbv)
	if err != nil {
		return "", err
	}
	// Preparing final bootloader swap.
	if err := os.Symlink(".", s.abs("boot/boot")); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("Preparing final bootloader swap: symlinkat: %w", unwrapPathErr(err))
	}
	if err := symlinkReplace(fmt.Sprintf("loader.%d", nbv), s.abs("boot/loader.tmp")); err != nil {
		return "", fmt.Errorf("Preparing final bootloader swap: %w", err)
	}
	if err := s.syncAll(); err != nil {
		return "", err
	}
	if err := os.Rename(s.abs("boot/loader.tmp"), s.abs("boot/loader")); err != nil {
		return "", fmt.Errorf("Final bootloader swap: renameat: %w", unwrapPathErr(err))
	}
	if err := fsutil.SyncDir(s.abs("boot")); err != nil {
		return "", fmt.Errorf("Final bootloader swap: fsync(boot): %w", err)
	}
	return sub, nil
}

// syncAll flushes the sysroot's and /boot's file systems (syncfs).
func (s *Sysroot) syncAll() error {
	for _, p := range []string{s.path, s.abs("boot")} {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("Full sync: %w", err)
		}
		err = unix.Syncfs(fd)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("Full sync: syncfs(%s): %w", p, err)
		}
	}
	return nil
}

// blsAppend parses sysroot.bls-append-except-default ("k=v;k2=v2").
func (s *Sysroot) blsAppend() ([][2]string, error) {
	var out [][2]string
	for _, kv := range s.repo.Config().List("sysroot", "bls-append-except-default") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, errf(ErrInvalid, "bls-append-except-default key must be of the form \"key1=value1;key2=value2...\"")
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// CheckBootloader checks the configured or detected boot loader
// (sysroot.bootloader). Grove writes BLS entries only: a detected
// syslinux, grub2 or u-boot configuration, or one configured, is refused
// before anything is written.
func (s *Sysroot) CheckBootloader() error {
	kind := s.repo.Config().String("sysroot", "bootloader", "auto")
	switch kind {
	case "none":
		return nil
	case "auto":
		probes := []struct{ name, path string }{
			{"syslinux", "boot/syslinux/syslinux.cfg"},
			{"grub2", "boot/grub2/grub.cfg"},
			{"grub2", "boot/grub/grub.cfg"},
			{"uboot", "boot/loader/uEnv.txt"},
		}
		for _, p := range probes {
			if _, err := os.Lstat(s.abs(p.path)); err == nil {
				return errf(ErrInvalid, "found %s (boot loader %s): grove writes BLS entries only; set sysroot.bootloader=none in ostree/repo/config if the boot loader reads them", p.path, p.name)
			}
		}
		if efi, _ := filepath.Glob(s.abs("boot/efi/EFI/*/grub.cfg")); len(efi) > 0 {
			return errf(ErrInvalid, "found %s (boot loader grub2): grove writes BLS entries only; set sysroot.bootloader=none in ostree/repo/config if the boot loader reads them", efi[0])
		}
		return nil
	case "grub2", "syslinux", "uboot", "zipl":
		return errf(ErrInvalid, "sysroot.bootloader=%s is not supported by grove (BLS entries only)", kind)
	}
	return errf(ErrInvalid, "Invalid bootloader configuration: '%s'", kind)
}
