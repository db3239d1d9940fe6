package sysroot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/prune"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/textual"
	"golang.org/x/sys/unix"
)

// CleanupOptions configure Cleanup.
type CleanupOptions struct {
	// Prune also prunes the system repository (refs only, depth 0);
	// without it Cleanup is ostree_sysroot_prepare_cleanup.
	Prune bool
}

// CleanupResult says what a prune freed.
type CleanupResult struct {
	ObjectsTotal, ObjectsPruned int
	Freed                       uint64
}

// Cleanup deletes what no deployment uses, like ostree_sysroot_cleanup:
// the other boot version's loader and bootlinks, deployment directories
// and boot/ostree/OS-BOOTCSUM directories not referenced by the current
// entries, unused overlay initrds; it rewrites the deployment refs
// (refs/heads/ostree/B/S/I) and, with Prune, prunes the system repository.
// The caller holds the lock.
func (s *Sysroot) Cleanup(ctx context.Context, opts CleanupOptions) (*CleanupResult, error) {
	if err := s.cleanupOtherBootversions(); err != nil {
		return nil, fmt.Errorf("Cleaning bootversions: %w", err)
	}
	if err := s.cleanupOldDeployments(ctx); err != nil {
		return nil, fmt.Errorf("Cleaning deployments: %w", err)
	}
	if err := s.generateDeploymentRefs(ctx); err != nil {
		return nil, fmt.Errorf("Generating deployment refs: %w", err)
	}
	res := &CleanupResult{}
	if !opts.Prune {
		return res, nil
	}
	pr, err := prune.Prune(ctx, s.repo, prune.Options{RefsOnly: true, Depth: 0})
	if err != nil {
		return nil, fmt.Errorf("Pruning system repository: %w", err)
	}
	res.ObjectsTotal, res.ObjectsPruned, res.Freed = pr.Total, pr.Pruned, pr.Freed
	if res.Freed > 0 {
		s.msg("Freed objects: %s", textual.FormatSize(res.Freed))
	}
	return res, nil
}

func (s *Sysroot) cleanupOtherBootversions() error {
	other, otherSub := 1-s.bootversion, 1-s.subboot
	for _, p := range []string{
		fmt.Sprintf("boot/loader.%d", other),
		fmt.Sprintf("ostree/boot.%d", other),
		fmt.Sprintf("ostree/boot.%d.0", other),
		fmt.Sprintf("ostree/boot.%d.1", other),
		fmt.Sprintf("ostree/boot.%d.%d", s.bootversion, otherSub),
	} {
		if err := os.RemoveAll(s.abs(p)); err != nil {
			return err
		}
	}
	return nil
}

// listDeploymentDirs finds every ostree/deploy/OS/deploy/CSUM.SERIAL.
func (s *Sysroot) listDeploymentDirs() ([]*Deployment, error) {
	osents, err := readDirOrdered(s.abs("ostree/deploy"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Deployment
	for _, o := range osents {
		if !o.IsDir() {
			continue
		}
		ds, err := s.listStaterootDirs(o.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

func (s *Sysroot) listStaterootDirs(stateroot string) ([]*Deployment, error) {
	ents, err := readDirOrdered(s.abs("ostree/deploy/" + stateroot + "/deploy"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*Deployment
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		csum, serial, err := parseDeployName(e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, &Deployment{Index: -1, Stateroot: stateroot, Checksum: csum, Serial: serial, BootSerial: -1})
	}
	return out, nil
}

// rmDeployment deletes a deployment directory and its origin (never the
// running root).
func (s *Sysroot) rmDeployment(d *Deployment) error {
	dir := s.abs(d.Dir())
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opendir(%s): %w", d.Dir(), unwrapPathErr(err))
	}
	var st unix.Stat_t
	err = unix.Fstat(int(f.Fd()), &st)
	if err == nil && st.Dev == s.rootSt.Dev && st.Ino == s.rootSt.Ino {
		f.Close()
		return nil
	}
	if err == nil {
		err = setImmutable(int(f.Fd()), false)
	}
	f.Close()
	if err != nil {
		return err
	}
	if err := os.RemoveAll(s.abs(d.OriginPath())); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

func (s *Sysroot) cleanupOldDeployments(ctx context.Context) error {
	activeDirs, activeBoot, activeOverlays := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, d := range s.deployments {
		activeDirs[d.Dir()] = true
		activeBoot[d.BootChecksum] = true
		if d.Boot != nil {
			for _, p := range d.Boot.OverlayInitrds() {
				activeOverlays[baseName(p)] = true
			}
		}
	}
	all, err := s.listDeploymentDirs()
	if err != nil {
		return err
	}
	for _, d := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		if activeDirs[d.Dir()] {
			continue
		}
		if err := s.rmDeployment(d); err != nil {
			return err
		}
	}
	bootents, err := readDirOrdered(s.abs("boot/ostree"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range bootents {
		if !e.IsDir() {
			continue
		}
		i := strings.LastIndexByte(e.Name(), '-')
		if i < 0 || !oid.IsChecksum(e.Name()[i+1:]) || activeBoot[e.Name()[i+1:]] {
			continue
		}
		if err := os.RemoveAll(s.abs("boot/ostree/" + e.Name())); err != nil {
			return err
		}
	}
	overlays, err := readDirOrdered(s.abs("boot/ostree/initramfs-overlays"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("open(initrd_overlays): %w", err)
	}
	for _, e := range overlays {
		if e.Type().IsRegular() && !activeOverlays[e.Name()] {
			if err := removeIfExists(s.abs("boot/ostree/initramfs-overlays/" + e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// generateDeploymentRefs drops the refs of the inactive boot versions and
// points refs/heads/ostree/B/S/I at each deployment's commit.
func (s *Sysroot) generateDeploymentRefs(ctx context.Context) error {
	other, otherSub := 1-s.bootversion, 1-s.subboot
	for _, p := range [][2]int{{other, 0}, {other, 1}, {s.bootversion, otherSub}} {
		if err := s.deleteRefPrefix(ctx, fmt.Sprintf("ostree/%d/%d/", p[0], p[1])); err != nil {
			return err
		}
	}
	for i, d := range s.deployments {
		sum, err := oid.Parse(d.Checksum)
		if err != nil {
			return err
		}
		if err := s.repo.SetRef(ctx, "", fmt.Sprintf("ostree/%d/%d/%d", s.bootversion, s.subboot, i), sum); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sysroot) deleteRefPrefix(ctx context.Context, prefix string) error {
	refs, err := s.repo.ListRefs(ctx)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if r.Remote == "" && !r.Mirror && strings.HasPrefix(r.Name, prefix) {
			if err := s.repo.DeleteRef(ctx, "", r.Name); err != nil && !errors.Is(err, repo.ErrRefNotFound) {
				return err
			}
		}
	}
	return nil
}

// setImmutable sets or clears FS_IMMUTABLE_FL; unsupported file systems
// and missing privileges are ignored, as in libostree.
func setImmutable(fd int, on bool) error {
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
			return nil
		}
		return fmt.Errorf("ioctl(EXT2_IOC_GETFLAGS): %w", err)
	}
	was := flags&immutableFlag != 0
	if was == on {
		return nil
	}
	if on {
		flags |= immutableFlag
	} else {
		flags &^= immutableFlag
	}
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags)); err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
			return nil
		}
		return fmt.Errorf("ioctl(EXT2_IOC_SETFLAGS): %w", err)
	}
	return nil
}

// immutableFlag is FS_IMMUTABLE_FL (EXT2_IMMUTABLE_FL) from linux/fs.h.
const immutableFlag = 0x00000010
