package sysroot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sysroot/bls"
	"github.com/groveos/grove/core/sysroot/etcmerge"
)

// DeployOptions configure DeployTree.
type DeployOptions struct {
	// Stateroot defaults to the booted deployment's.
	Stateroot string
	Commit    oid.Checksum
	// Origin is written as the deployment's .origin (nil: none).
	Origin *repo.KeyFile
	// Merge is the deployment whose /etc changes and kernel arguments
	// carry over (nil: none).
	Merge *Deployment
	// Kargs, when not nil, are the kernel arguments; nil inherits Merge's.
	Kargs []string
}

// DeployTree checks a commit out as a new deployment, like
// ostree_sysroot_deploy_tree: a hardlink checkout into
// ostree/deploy/OS/deploy/CSUM.SERIAL, etc/ copied from usr/etc, the /etc
// three-way merge with opts.Merge, the .origin, the stateroot's var
// stamp, and the immutable bit. It does not touch the boot loader: pass
// the result to SimpleWriteDeployment or WriteDeployments. On failure the
// partial directory is removed.
func (s *Sysroot) DeployTree(ctx context.Context, opts DeployOptions) (*Deployment, error) {
	stateroot := opts.Stateroot
	if stateroot == "" {
		if s.bootedDep == nil {
			return nil, errf(ErrNotBooted, "Not currently booted into an OSTree system and no --os= argument given")
		}
		stateroot = s.bootedDep.Stateroot
	}
	csum := opts.Commit.String()
	serial, err := s.allocateSerial(stateroot, csum)
	if err != nil {
		return nil, err
	}
	d := &Deployment{Stateroot: stateroot, Checksum: csum, Serial: serial, BootSerial: -1, Origin: opts.Origin}
	ok := false
	defer func() {
		if !ok {
			s.removePartial(d)
		}
	}()
	if err := s.initializeDeployment(ctx, d, opts.Kargs); err != nil {
		return nil, err
	}
	if err := s.finalizeDeployment(ctx, d, opts.Merge); err != nil {
		return nil, err
	}
	ok = true
	return d, nil
}

// removePartial deletes what a failed DeployTree left.
func (s *Sysroot) removePartial(d *Deployment) {
	if f, err := os.Open(s.abs(d.Dir())); err == nil {
		setImmutable(int(f.Fd()), false)
		f.Close()
	}
	os.RemoveAll(s.abs(d.Dir()))
	os.Remove(s.abs(d.OriginPath()))
}

// allocateSerial is 1 + the highest serial of csum in the stateroot.
func (s *Sysroot) allocateSerial(stateroot, csum string) (int, error) {
	ds, err := s.listStaterootDirs(stateroot)
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
func (s *Sysroot) initializeDeployment(ctx context.Context, d *Deployment, kargs []string) error {
	osdeploy := s.abs("ostree/deploy/" + d.Stateroot + "/deploy")
	if err := os.MkdirAll(osdeploy, 0o775); err != nil {
		return fmt.Errorf("Checking out deployment tree: %w", err)
	}
	root := s.abs(d.Dir())
	if err := os.RemoveAll(root); err != nil {
		return fmt.Errorf("Checking out deployment tree: %w", err)
	}
	if err := checkout.Checkout(ctx, s.repo, mustParse(d.Checksum), root, checkout.Options{}); err != nil {
		return fmt.Errorf("Checking out deployment tree: %w", err)
	}
	kl, err := findKernel(root, s.debug.NoDTB)
	if err != nil {
		return err
	}
	d.BootChecksum = kl.bootcsum
	d.Boot = bls.NewEntry()
	if kargs != nil {
		k := &bls.KernelArgs{}
		k.AppendArgv(kargs)
		d.Boot.Set("options", k.String())
	}
	if err := s.prepareEtc(ctx, d, root); err != nil {
		return fmt.Errorf("Preparing /etc: %w", err)
	}
	if ents, err := readDirOrdered(filepath.Join(root, "var")); err == nil {
		for _, e := range ents {
			s.warn("note: Deploying commit %s which contains content in /var/%s that will be ignored.", d.Checksum, e.Name())
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
func (s *Sysroot) prepareEtc(ctx context.Context, d *Deployment, root string) error {
	_, err := os.Lstat(filepath.Join(root, "etc"))
	etc := err == nil
	_, err = os.Lstat(filepath.Join(root, "usr/etc"))
	usrEtc := err == nil
	if etc {
		if usrEtc {
			return errf(ErrInvalid, "Tree contains both /etc and /usr/etc")
		}
		// Compatibility: libostree 2022.7 renames etc to usr/etc and then
		// fails to find /usr/etc in the commit; Grove copies it from disk.
		if err := os.Rename(filepath.Join(root, "etc"), filepath.Join(root, "usr/etc")); err != nil {
			return err
		}
		return etcmerge.CopyDir(filepath.Join(root, "usr/etc"), filepath.Join(root, "etc"), etcmerge.CopyOptions{NoXattrs: s.debug.NoXattrs})
	}
	if !usrEtc {
		return nil
	}
	return checkout.Checkout(ctx, s.repo, mustParse(d.Checksum), filepath.Join(root, "etc"), checkout.Options{ForceCopy: true, Subpath: "/usr/etc"})
}

// finalizeDeployment is sysroot_finalize_deployment: kernel arguments and
// /etc from the merge deployment, /var housekeeping, origin, seal.
func (s *Sysroot) finalizeDeployment(ctx context.Context, d, merge *Deployment) error {
	root := s.abs(d.Dir())
	if merge != nil {
		if _, ok := d.Boot.Get("options"); !ok && merge.Boot != nil {
			if v, ok := merge.Boot.Get("options"); ok {
				d.Boot.Set("options", v)
			}
		}
		mroot := s.abs(merge.Dir())
		_, err := etcmerge.Merge(ctx, filepath.Join(mroot, "usr/etc"), filepath.Join(mroot, "etc"), filepath.Join(root, "etc"),
			etcmerge.Options{CopyOptions: etcmerge.CopyOptions{NoXattrs: s.debug.NoXattrs}, OnMessage: s.onMsg})
		if err != nil {
			return fmt.Errorf("During /etc merge: %w", err)
		}
	}
	varDir := s.abs("ostree/deploy/" + d.Stateroot + "/var")
	if s.bootedDep != nil && s.bootedDep.Stateroot == d.Stateroot {
		varDir = filepath.Join(s.env.Root, "var")
	}
	if st, err := os.Stat(varDir); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("Not a directory")
		}
		return fmt.Errorf("opendir(var): %w", unwrapPathErr(err))
	}
	if err := removeIfExists(filepath.Join(root, "etc/.updated")); err != nil {
		return err
	}
	if err := removeIfExists(filepath.Join(varDir, ".updated")); err != nil {
		return err
	}
	stamp := s.abs("ostree/deploy/" + d.Stateroot + "/var/.ostree-selabeled")
	if _, err := os.Lstat(stamp); errors.Is(err, os.ErrNotExist) {
		s.msg("Relabeling /var (no stamp file 'var/.ostree-selabeled' found)")
		if err := fsutil.WriteFileAtomic(stamp, nil, 0o644, true); err != nil {
			return err
		}
	}
	if err := s.writeOrigin(d, d.Origin, false); err != nil {
		return err
	}
	if !s.debug.MutableDeployments {
		f, err := os.Open(root)
		if err != nil {
			return err
		}
		err = setImmutable(int(f.Fd()), true)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// writeOrigin replaces the deployment's .origin (nothing when kf is nil).
func (s *Sysroot) writeOrigin(d *Deployment, kf *repo.KeyFile, sync bool) error {
	if kf == nil {
		return nil
	}
	if err := fsutil.WriteFileAtomic(s.abs(d.OriginPath()), kf.Bytes(), 0o644, sync); err != nil {
		return fmt.Errorf("Writing out origin file: %w", err)
	}
	return nil
}

// WriteOrigin replaces a deployment's origin now, like
// ostree_sysroot_write_origin_file.
func (s *Sysroot) WriteOrigin(d *Deployment, kf *repo.KeyFile) error {
	if err := s.writeOrigin(d, kf, true); err != nil {
		return err
	}
	d.Origin = kf
	return s.bumpMtime()
}

func (s *Sysroot) warn(format string, args ...any) {
	if s.onWarn != nil {
		s.onWarn(fmt.Sprintf(format, args...))
	}
}

// MergeDeployment is where configuration merges from: the booted
// deployment when it is of the stateroot, else the stateroot's first.
func (s *Sysroot) MergeDeployment(stateroot string) *Deployment {
	if stateroot == "" && s.bootedDep != nil {
		stateroot = s.bootedDep.Stateroot
	}
	if s.bootedDep != nil && s.bootedDep.Stateroot == stateroot {
		return s.bootedDep
	}
	p, _ := s.PendingRollback(stateroot)
	return p
}

// PendingRollback is ostree_sysroot_query_deployments_for: the first
// deployment of the stateroot before the booted one, and the first after.
func (s *Sysroot) PendingRollback(stateroot string) (pending, rollback *Deployment) {
	if stateroot == "" && s.bootedDep != nil {
		stateroot = s.bootedDep.Stateroot
	}
	passed := false
	for _, d := range s.deployments {
		if d.Stateroot != stateroot {
			continue
		}
		if s.bootedDep != nil && d.Equal(s.bootedDep) {
			passed = true
			continue
		}
		if !passed && pending == nil {
			pending = d
		} else if passed && rollback == nil {
			rollback = d
		}
	}
	return pending, rollback
}

// WriteFlags are ostree_sysroot_simple_write_deployment's flags.
type WriteFlags struct {
	NoClean        bool // no cleanup afterwards
	NotDefault     bool // place after the booted/merge deployment
	Retain         bool // keep every deployment
	RetainPending  bool
	RetainRollback bool
}

// SimpleWriteDeployment puts d first (or after the booted/merge
// deployment with NotDefault) and keeps: pinned deployments, other
// stateroots, the booted and merge deployments, and pending/rollback ones
// when asked; then writes the list (and cleans up unless NoClean).
func (s *Sysroot) SimpleWriteDeployment(ctx context.Context, stateroot string, d, merge *Deployment, f WriteFlags) error {
	return s.WriteDeployments(ctx, s.retained(stateroot, d, merge, f), WriteOptions{PostClean: !f.NoClean})
}

// retained computes the list SimpleWriteDeployment writes.
func (s *Sysroot) retained(stateroot string, d, merge *Deployment, f WriteFlags) []*Deployment {
	if stateroot == "" && s.bootedDep != nil {
		stateroot = s.bootedDep.Stateroot
	}
	var out []*Deployment
	added := false
	if !f.NotDefault {
		out, added = append(out, d), true
	}
	retain := f.Retain
	if s.bootedDep == nil && merge == nil && (f.RetainPending || f.RetainRollback) {
		retain = true
	}
	beforeBooted, beforeMerge := true, true
	for _, cur := range s.deployments {
		isBooted := s.bootedDep != nil && cur.Equal(s.bootedDep)
		isMerge := merge != nil && cur.Equal(merge)
		if isBooted {
			beforeBooted = false
		}
		if isMerge {
			beforeMerge = false
		}
		crossed := !beforeMerge
		if s.bootedDep != nil {
			crossed = !beforeBooted
		}
		if retain || cur.Pinned() || (stateroot != "" && cur.Stateroot != stateroot) ||
			(f.RetainPending && !crossed) || isBooted || isMerge || (f.RetainRollback && crossed) {
			out = append(out, cur)
		}
		if !added && crossed {
			out, added = append(out, d), true
		}
	}
	if !added {
		out = append(out, d)
	}
	return out
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
func (s *Sysroot) DeployKargs(merge *Deployment, o KargOptions) ([]string, error) {
	if o.ProcCmdline && o.None {
		return nil, errf(ErrInvalid, "Can't specify both --karg-proc-cmdline and --karg-none")
	}
	if o.None && o.Delete != "" {
		return nil, errf(ErrInvalid, "Can't specify both --karg-none and --karg-delete")
	}
	var k *bls.KernelArgs
	switch {
	case o.None:
		k = &bls.KernelArgs{}
	case o.ProcCmdline:
		data, err := os.ReadFile(s.env.ProcCmdline)
		if err != nil {
			return nil, err
		}
		k = &bls.KernelArgs{}
		k.AppendProcCmdline(string(data))
	case merge != nil && (o.Replace != nil || o.Append != nil || o.Delete != ""):
		k = &bls.KernelArgs{}
		if merge.Boot != nil {
			k.AppendArgv(strings.Split(merge.Boot.Value("options"), " "))
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
			return nil, errf(ErrInvalid, "%w", err)
		}
	}
	if k == nil {
		return nil, nil
	}
	return k.Strv(), nil
}
