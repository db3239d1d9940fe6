package sysroot

import (
	"context"
	"fmt"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/keyfile"
)

// WriteOriginFile replaces a deployment's .origin (nothing when kf is
// nil), fsyncing when sync; it does not bump the mtime.
func (s *Sysroot) WriteOriginFile(d *Deployment, kf *keyfile.File, sync bool) error {
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
func (s *Sysroot) WriteOrigin(d *Deployment, kf *keyfile.File) error {
	if err := s.WriteOriginFile(d, kf, true); err != nil {
		return err
	}
	d.Origin = kf
	return s.bumpMtime()
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
	return s.WriteDeployments(ctx, s.Retained(stateroot, d, merge, f), WriteOptions{PostClean: !f.NoClean})
}

// Retained is the list SimpleWriteDeployment writes (d placed, others
// kept or dropped by the retention rules), without writing it.
func (s *Sysroot) Retained(stateroot string, d, merge *Deployment, f WriteFlags) []*Deployment {
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
