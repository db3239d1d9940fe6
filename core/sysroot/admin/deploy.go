package admin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/bls"
	"github.com/groveos/grove/core/sysroot/etcmerge"
	"github.com/groveos/grove/core/sysroot/kernel"
)

// DeployOptions configure Deploy.
type DeployOptions struct {
	// Stateroot defaults to the booted deployment's.
	Stateroot string
	Commit    oid.Checksum
	// Origin is written as the deployment's .origin (nil: none).
	Origin *keyfile.File
	// Merge is the deployment whose /etc changes and kernel arguments
	// carry over (nil: none).
	Merge *sysroot.Deployment
	// Kargs, when not nil, are the kernel arguments; nil inherits Merge's.
	Kargs []string
	// Progress receives the phases ("checking out", "merging /etc",
	// "finishing"); nil reports nothing.
	Progress progress.Func
}

// Deploy checks a commit out as a new deployment, like
// ostree_sysroot_deploy_tree: a hardlink checkout into
// ostree/deploy/OS/deploy/CSUM.SERIAL, etc/ copied from usr/etc, the /etc
// three-way merge with opts.Merge, the .origin, the stateroot's var
// stamp, and the immutable bit. It does not touch the boot loader: pass
// the result to SimpleWriteDeployment or WriteDeployments. On failure the
// partial directory is removed.
func Deploy(ctx context.Context, s *sysroot.Sysroot, opts DeployOptions) (*sysroot.Deployment, error) {
	stateroot := opts.Stateroot
	if stateroot == "" {
		if s.Booted() == nil {
			return nil, sysroot.Errorf(sysroot.ErrNotBooted, "Not currently booted into an OSTree system and no --os= argument given")
		}
		stateroot = s.Booted().Stateroot
	}
	// The stateroot's /var must exist (os-init), and the boot loader be
	// one grove writes for, before anything is written.
	if _, err := stateVar(s, stateroot); err != nil {
		return nil, err
	}
	if err := s.CheckBootloader(); err != nil {
		return nil, err
	}
	csum := opts.Commit.String()
	serial, err := allocateSerial(s, stateroot, csum)
	if err != nil {
		return nil, err
	}
	d := &sysroot.Deployment{Stateroot: stateroot, Checksum: csum, Serial: serial, BootSerial: -1, Origin: opts.Origin}
	ok := false
	defer func() {
		if !ok {
			removePartial(s, d)
		}
	}()
	opts.Progress.Report(progress.Event{Phase: "checking out", Item: d.Name()})
	if err := initializeDeployment(ctx, s, d, opts.Kargs); err != nil {
		return nil, err
	}
	opts.Progress.Report(progress.Event{Phase: "merging /etc", Item: d.Name()})
	if err := finalizeDeployment(ctx, s, d, opts.Merge); err != nil {
		return nil, err
	}
	ok = true
	return d, nil
}

// removePartial deletes what a failed DeployTree left.
func removePartial(s *sysroot.Sysroot, d *sysroot.Deployment) {
	s.SetMutable(d, true)
	os.RemoveAll(s.Abs(d.Dir()))
	os.Remove(s.Abs(d.OriginPath()))
}

// allocateSerial is 1 + the highest serial of csum in the stateroot.
func allocateSerial(s *sysroot.Sysroot, stateroot, csum string) (int, error) {
	ds, err := s.DeploymentDirs(stateroot)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range ds {
		if d.Checksum == csum && d.Serial+1 > n {
			n = d.Serial + 1
		}
	}
	return n, nil
}

// initializeDeployment checks the tree out and finds its kernel and /etc.
func initializeDeployment(ctx context.Context, s *sysroot.Sysroot, d *sysroot.Deployment, kargs []string) error {
	osdeploy := s.Abs("ostree/deploy/" + d.Stateroot + "/deploy")
	if err := os.MkdirAll(osdeploy, 0o775); err != nil {
		return fmt.Errorf("Checking out deployment tree: %w", err)
	}
	root := s.Abs(d.Dir())
	if err := os.RemoveAll(root); err != nil {
		return fmt.Errorf("Checking out deployment tree: %w", err)
	}
	if err := checkout.Checkout(ctx, s.Repo(), mustParse(d.Checksum), root, checkout.Options{}); err != nil {
		return fmt.Errorf("Checking out deployment tree: %w", err)
	}
	kl, err := kernel.Find(root, s.Debug().NoDTB)
	if err != nil {
		return err
	}
	d.BootChecksum = kl.BootChecksum
	d.Boot = bls.NewEntry()
	if kargs != nil {
		k := &bls.KernelArgs{}
		k.AppendArgv(kargs)
		d.Boot.Set("options", k.String())
	}
	if err := prepareEtc(ctx, s, d, root); err != nil {
		return fmt.Errorf("Preparing /etc: %w", err)
	}
	if ents, err := os.ReadDir(filepath.Join(root, "var")); err == nil {
		for _, e := range ents {
			s.Warningf("note: Deploying commit %s which contains content in /var/%s that will be ignored.", d.Checksum, e.Name())
		}
	}
	return nil
}

func mustParse(s string) oid.Checksum {
	c, _ := oid.Parse(s)
	return c
}

// prepareEtc makes etc/ a copy of usr/etc (a tree with /etc only has it
// moved to usr/etc first; both is an error).
func prepareEtc(ctx context.Context, s *sysroot.Sysroot, d *sysroot.Deployment, root string) error {
	_, err := os.Lstat(filepath.Join(root, "etc"))
	etc := err == nil
	_, err = os.Lstat(filepath.Join(root, "usr/etc"))
	usrEtc := err == nil
	if etc {
		if usrEtc {
			return sysroot.Errorf(sysroot.ErrInvalid, "Tree contains both /etc and /usr/etc")
		}
		// Compatibility: libostree 2022.7 renames etc to usr/etc and then
		// fails to find /usr/etc in the commit; Grove copies it from disk.
		if err := os.Rename(filepath.Join(root, "etc"), filepath.Join(root, "usr/etc")); err != nil {
			return err
		}
		return etcmerge.CopyDir(filepath.Join(root, "usr/etc"), filepath.Join(root, "etc"), etcmerge.CopyOptions{NoXattrs: s.Debug().NoXattrs})
	}
	if !usrEtc {
		return nil
	}
	return checkout.Checkout(ctx, s.Repo(), mustParse(d.Checksum), filepath.Join(root, "etc"), checkout.Options{ForceCopy: true, Subpath: "/usr/etc"})
}

// finalizeDeployment is sysroot_finalize_deployment: kernel arguments and
// /etc from the merge deployment, /var housekeeping, origin, seal.
func finalizeDeployment(ctx context.Context, s *sysroot.Sysroot, d, merge *sysroot.Deployment) error {
	root := s.Abs(d.Dir())
	if merge != nil {
		if _, ok := d.Boot.Get("options"); !ok && merge.Boot != nil {
			if v, ok := merge.Boot.Get("options"); ok {
				d.Boot.Set("options", v)
			}
		}
		mroot := s.Abs(merge.Dir())
		_, err := etcmerge.Merge(ctx, filepath.Join(mroot, "usr/etc"), filepath.Join(mroot, "etc"), filepath.Join(root, "etc"),
			etcmerge.Options{CopyOptions: etcmerge.CopyOptions{NoXattrs: s.Debug().NoXattrs}, OnMessage: s.MessageFunc()})
		if err != nil {
			return fmt.Errorf("During /etc merge: %w", err)
		}
	}
	varDir, err := stateVar(s, d.Stateroot)
	if err != nil {
		return err
	}
	if err := removeIfExists(filepath.Join(root, "etc/.updated")); err != nil {
		return err
	}
	if err := removeIfExists(filepath.Join(varDir, ".updated")); err != nil {
		return err
	}
	stamp := s.Abs("ostree/deploy/" + d.Stateroot + "/var/.ostree-selabeled")
	if _, err := os.Lstat(stamp); errors.Is(err, os.ErrNotExist) {
		s.Messagef("Relabeling /var (no stamp file 'var/.ostree-selabeled' found)")
		if err := fsutil.WriteFileAtomic(stamp, nil, 0o644, true); err != nil {
			return err
		}
	}
	if err := s.WriteOriginFile(d, d.Origin, false); err != nil {
		return err
	}
	if !s.Debug().MutableDeployments {
		if err := s.SetMutable(d, false); err != nil {
			return err
		}
	}
	return nil
}

// KargOptions are `ostree admin deploy`'s kernel-argument flags.
type KargOptions struct {
	Replace     []string // --karg=K=V: replace every value of K
	Append      []string // --karg-append=K=V
	Delete      string   // --karg-delete=K[=V]
	ProcCmdline bool     // --karg-proc-cmdline: start from /proc/cmdline
	None        bool     // --karg-none: start from nothing
}

// DeployKargs computes DeployOptions.Kargs as `ostree admin deploy`
// does: nil (inherit the merge deployment's) unless a flag is given; the
// merge deployment's arguments are the start when editing them.
func DeployKargs(s *sysroot.Sysroot, merge *sysroot.Deployment, o KargOptions) ([]string, error) {
	if o.ProcCmdline && o.None {
		return nil, sysroot.Errorf(sysroot.ErrInvalid, "Can't specify both --karg-proc-cmdline and --karg-none")
	}
	if o.None && o.Delete != "" {
		return nil, sysroot.Errorf(sysroot.ErrInvalid, "Can't specify both --karg-none and --karg-delete")
	}
	var k *bls.KernelArgs
	switch {
	case o.None:
		k = &bls.KernelArgs{}
	case o.ProcCmdline:
		data, err := os.ReadFile(s.Env().ProcCmdline)
		if err != nil {
			return nil, err
		}
		k = &bls.KernelArgs{}
		k.AppendProcCmdline(string(data))
	case merge != nil && (o.Replace != nil || o.Append != nil || o.Delete != ""):
		k = &bls.KernelArgs{}
		if merge.Boot != nil {
			k.AppendArgv(bls.Split(merge.Boot.Value("options")))
		}
	}
	if o.Replace != nil {
		if k == nil {
			k = &bls.KernelArgs{}
		}
		k.ReplaceArgv(o.Replace)
	}
	if o.Append != nil {
		if k == nil {
			k = &bls.KernelArgs{}
		}
		k.AppendArgv(o.Append)
	}
	if o.Delete != "" {
		if k == nil {
			k = &bls.KernelArgs{}
		}
		if err := k.Delete(o.Delete); err != nil {
			return nil, sysroot.Errorf(sysroot.ErrInvalid, "%w", err)
		}
	}
	if k == nil {
		return nil, nil
	}
	return k.Strv(), nil
}

func removeIfExists(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// stateVar is the /var a new deployment of the stateroot shares: the
// running /var for the booted stateroot, else ostree/deploy/OS/var.
func stateVar(s *sysroot.Sysroot, stateroot string) (string, error) {
	varDir := s.Abs("ostree/deploy/" + stateroot + "/var")
	if b := s.Booted(); b != nil && b.Stateroot == stateroot {
		varDir = filepath.Join(s.Env().Root, "var")
	}
	if st, err := os.Stat(varDir); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("Not a directory")
		}
		return "", fmt.Errorf("opendir(var): %w", sysroot.ErrnoText(err))
	}
	return varDir, nil
}
