package admin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/bls"

	"github.com/groveos/grove/core/internal/fsutil"
	"golang.org/x/sys/unix"
)

// Unlock makes the booted deployment's /usr writable with an
// overlay, like `ostree admin unlock`: Development (discarded at reboot),
// Transient (mounted read-only) or Hotfix (persists; a clean clone is
// deployed first as the non-default rollback target). Env.Root/usr is
// the mount point.
func Unlock(ctx context.Context, s *sysroot.Sysroot, state sysroot.Unlocked) error {
	d := s.Booted()
	if d == nil {
		return sysroot.Errorf(sysroot.ErrNotBooted, "Not currently booted into an OSTree system")
	}
	if state == sysroot.UnlockedNone {
		return sysroot.Errorf(sysroot.ErrInvalid, "cannot re-lock a deployment")
	}
	if d.Unlocked != sysroot.UnlockedNone {
		return sysroot.Errorf(sysroot.ErrInvalid, "Deployment is already in unlocked state: %s", d.Unlocked)
	}
	merge := s.MergeDeployment(d.Stateroot)
	if merge == nil {
		return sysroot.Errorf(sysroot.ErrInvalid, "No previous deployment to duplicate")
	}
	if state == sysroot.UnlockedHotfix {
		if err := cloneDeployment(ctx, s, d, merge); err != nil {
			return err
		}
	}
	root := s.Abs(d.Dir())
	f, err := os.Open(root)
	if err != nil {
		return err
	}
	err = s.SetMutable(d, true)
	f.Close()
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(root, "usr"), &st); err != nil {
		return fmt.Errorf("fstatat(usr): %w", err)
	}
	mkdir := func(p string) error {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return err
		}
		if err := unix.Chmod(p, st.Mode&0o7777); err != nil {
			return fmt.Errorf("chmod(%s): %w", p, err)
		}
		return nil
	}
	var upper, work, ovldir string
	switch state {
	case sysroot.UnlockedHotfix:
		upper, work = filepath.Join(root, ".usr-ovl-upper"), filepath.Join(root, ".usr-ovl-work")
	default:
		tmp := filepath.Join(s.Env().Root, "var/tmp")
		if ovldir, err = os.MkdirTemp(tmp, "ostree-unlock-ovl."); err != nil {
			return fmt.Errorf("mkdtemp: %w", err)
		}
		if err := os.Chmod(ovldir, 0o755); err != nil {
			return err
		}
		upper, work = filepath.Join(ovldir, "upper"), filepath.Join(ovldir, "work")
	}
	if err := mkdir(upper); err != nil {
		return err
	}
	if err := mkdir(work); err != nil {
		return err
	}
	var flags uintptr
	if state == sysroot.UnlockedTransient {
		flags |= unix.MS_RDONLY
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", escapeOvl(filepath.Join(root, "usr")), escapeOvl(upper), escapeOvl(work))
	if err := unix.Mount("overlay", filepath.Join(s.Env().Root, "usr"), "overlay", flags, opts); err != nil {
		return fmt.Errorf("Failed overlayfs mount: %w", err)
	}
	switch state {
	case sysroot.UnlockedHotfix:
		kf := d.Clone().Origin
		if kf == nil {
			kf = sysroot.NewOrigin("")
			kf.Delete("origin", "refspec")
		}
		kf.Set("origin", "unlocked", "hotfix")
		if err := s.WriteOrigin(d, kf); err != nil {
			return err
		}
	default:
		key := "unlocked-development"
		if state == sysroot.UnlockedTransient {
			key = "unlocked-transient"
		}
		p := s.RunstatePath(d, key)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := fsutil.WriteFileAtomic(p, []byte(ovldir), 0o644, false); err != nil {
			return err
		}
	}
	d.Unlocked = state
	return s.BumpMtime()
}

// escapeOvl escapes the characters overlayfs options treat specially.
func escapeOvl(p string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `:`, `\:`).Replace(p)
}

// cloneDeployment deploys target again (same commit and origin, the merge
// deployment's kernel arguments) right after the booted deployment.
func cloneDeployment(ctx context.Context, s *sysroot.Sysroot, target, merge *sysroot.Deployment) error {
	if _, err := s.Cleanup(ctx, sysroot.CleanupOptions{}); err != nil {
		return fmt.Errorf("Performing initial cleanup: %w", err)
	}
	var kargs []string
	if merge.Boot != nil {
		kargs = bls.Split(merge.Boot.Value("options"))
	}
	var origin = target.Origin
	if origin != nil {
		origin = target.Clone().Origin
	}
	sum, err := target.Commit()
	if err != nil {
		return err
	}
	d, err := Deploy(ctx, s, DeployOptions{Stateroot: target.Stateroot, Commit: sum, Origin: origin, Merge: merge, Kargs: kargs})
	if err != nil {
		return err
	}
	return s.SimpleWriteDeployment(ctx, target.Stateroot, d, merge, sysroot.WriteFlags{NotDefault: true})
}
