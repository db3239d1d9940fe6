package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/sysroot"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/sysroot/bls"
	"github.com/groveos/grove/core/sysroot/etcmerge"
)

// ErrIndex is returned for a deployment index out of range.
var ErrIndex = errors.New("admin: deployment index out of range")

// Deployment returns the deployment at index, with `ostree admin`'s
// messages for bad indexes.
func Deployment(s *sysroot.Sysroot, index int) (*sysroot.Deployment, error) {
	if index < 0 {
		return nil, sysroot.Errorf(ErrIndex, "Invalid index %d", index)
	}
	if index >= len(s.Deployments()) {
		return nil, sysroot.Errorf(ErrIndex, "Out of range deployment index %d, expected < %d", index, len(s.Deployments()))
	}
	return s.Deployments()[index], nil
}

// Undeploy removes the deployment at index from the boot list (and its
// directory in the cleanup that follows). The booted one cannot go.
func Undeploy(ctx context.Context, s *sysroot.Sysroot, index int) (*sysroot.Deployment, error) {
	d, err := Deployment(s, index)
	if err != nil {
		return nil, err
	}
	if s.Booted() != nil && d == s.Booted() {
		return nil, sysroot.Errorf(sysroot.ErrBooted, "Cannot undeploy currently booted deployment %d", index)
	}
	list := append(s.Deployments()[:index:index], s.Deployments()[index+1:]...)
	if err := s.WriteDeployments(ctx, list, sysroot.WriteOptions{PostClean: true}); err != nil {
		return nil, err
	}
	return d, nil
}

// SetPinned pins or unpins a deployment ([libostree-transient] pinned).
// It reports whether anything changed.
func SetPinned(s *sysroot.Sysroot, d *sysroot.Deployment, pinned bool) (bool, error) {
	if d.Pinned() == pinned {
		return false, nil
	}
	if d.Staged {
		return false, sysroot.Errorf(sysroot.ErrInvalid, "Cannot pin staged deployment")
	}
	kf := &keyfile.File{}
	if d.Origin != nil {
		kf = d.Clone().Origin
	}
	if pinned {
		kf.Set(sysroot.TransientGroup, "pinned", "true")
	} else {
		kf.Delete(sysroot.TransientGroup, "pinned")
	}
	return true, s.WriteOrigin(d, kf)
}

// Rollback makes the previous deployment the default again, in one
// atomic swap of the boot entries, keeping the current default as the
// rollback target (rolling back twice returns). Booted, "previous" is the
// booted deployment when something else is pending, else the rollback
// deployment; offline it is the stateroot's second deployment. It returns
// the deployment that was the default and the new default.
func Rollback(ctx context.Context, s *sysroot.Sysroot, stateroot string) (from, to *sysroot.Deployment, err error) {
	if stateroot == "" {
		switch {
		case s.Booted() != nil:
			stateroot = s.Booted().Stateroot
		case len(s.Deployments()) > 0:
			stateroot = s.Deployments()[0].Stateroot
		}
	}
	fromIdx, toIdx := -1, -1
	for i, d := range s.Deployments() {
		if d.Stateroot != stateroot || d.Staged {
			continue
		}
		if fromIdx < 0 {
			fromIdx = i
			if s.Booted() == nil || d.Equal(s.Booted()) {
				continue
			}
			// something is pending: go back to the booted deployment
			for j := i + 1; j < len(s.Deployments()); j++ {
				if s.Deployments()[j].Equal(s.Booted()) {
					toIdx = j
					break
				}
			}
			break
		}
		toIdx = i
		break
	}
	if fromIdx < 0 || toIdx < 0 {
		return nil, nil, sysroot.Errorf(sysroot.ErrInvalid, "No rollback deployment found for stateroot '%s'", stateroot)
	}
	list := s.Deployments()
	list = nonStaged(list)
	from, to = s.Deployments()[fromIdx], s.Deployments()[toIdx]
	fi, ti := indexOfDep(list, from), indexOfDep(list, to)
	list[fi], list[ti] = list[ti], list[fi]
	if err := s.WriteDeployments(ctx, list, sysroot.WriteOptions{}); err != nil {
		return nil, nil, err
	}
	if _, err := s.Cleanup(ctx, sysroot.CleanupOptions{}); err != nil {
		return nil, nil, fmt.Errorf("Performing final cleanup: %w", err)
	}
	return from, to, nil
}

func nonStaged(list []*sysroot.Deployment) []*sysroot.Deployment {
	out := list[:0:0]
	for _, d := range list {
		if !d.Staged {
			out = append(out, d)
		}
	}
	return out
}

func indexOfDep(list []*sysroot.Deployment, d *sysroot.Deployment) int {
	for i, x := range list {
		if x == d {
			return i
		}
	}
	return -1
}

// SetKargsInPlace rewrites one deployment's entry with new kernel
// arguments in the live boot version (no swap), like
// ostree_sysroot_deployment_set_kargs_in_place.
func SetKargsInPlace(s *sysroot.Sysroot, d *sysroot.Deployment, kargs string) error {
	if d.Staged {
		return sysroot.Errorf(sysroot.ErrInvalid, "Cannot set kernel arguments of the staged deployment in place")
	}
	d.Boot.Set("options", kargs)
	name := fmt.Sprintf("ostree-%d-%s.conf", len(s.Deployments())-d.Index, d.Stateroot)
	dir := s.Abs(fmt.Sprintf("boot/loader.%d/entries", s.Bootversion()))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("opendir(loader.%d/entries): %w", s.Bootversion(), err)
	}
	return fsutil.WriteFileAtomic(filepath.Join(dir, name), d.Boot.Bytes(), 0o644, false)
}

// AppendKargsIfMissing is `ostree admin kargs edit-in-place
// --append-if-missing`: every deployment gets the arguments whose key it
// lacks, in place.
func AppendKargsIfMissing(s *sysroot.Sysroot, args []string) error {
	if len(s.Deployments()) == 0 {
		return sysroot.Errorf(sysroot.ErrInvalid, "Unable to find a deployment in sysroot")
	}
	for _, d := range s.Deployments() {
		k := bls.ParseKernelArgs(d.Kargs())
		if _, ok := d.Boot.Get("options"); !ok {
			k = &bls.KernelArgs{}
		}
		for _, a := range args {
			k.AppendIfMissing(a)
		}
		if err := SetKargsInPlace(s, d, k.String()); err != nil {
			return err
		}
	}
	return nil
}

// ConfigDiff prints the deployment's /etc changes as `ostree admin
// config-diff` does ("M    path", then D, then A); with diffs, a unified
// diff follows each changed file.
func ConfigDiff(ctx context.Context, s *sysroot.Sysroot, d *sysroot.Deployment, w io.Writer, diffs bool) error {
	root := s.Abs(d.Dir())
	orig, mod := filepath.Join(root, "usr/etc"), filepath.Join(root, "etc")
	c, err := etcmerge.Diff(ctx, orig, mod)
	if err != nil {
		return err
	}
	for _, l := range []struct {
		letter byte
		paths  []string
	}{{'M', c.Modified}, {'D', c.Removed}, {'A', c.Added}} {
		for _, p := range l.paths {
			fmt.Fprintf(w, "%c    %s\n", l.letter, p)
			if diffs {
				if t := etcmerge.FileDiff(filepath.Join(orig, p), filepath.Join(mod, p), "a/usr/etc/"+p, "b/etc/"+p); t != "" {
					fmt.Fprint(w, t)
				}
			}
		}
	}
	return nil
}
