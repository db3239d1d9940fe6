package admin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/etcmerge"
)

// Plan is what a deploy would do, computed without writing: for
// --dry-run and for the TUI's confirmation.
type Plan struct {
	// New is the deployment that would be created (not on disk).
	New *sysroot.Deployment
	// Version is the commit's version metadata ("" when none).
	Version string
	// Merge is the configuration merge source (nil: none).
	Merge *sysroot.Deployment
	// After is the deployment list the write would leave (New included);
	// Dropped are current deployments it would remove.
	After, Dropped []*sysroot.Deployment
	// Etc previews the /etc merge (nil without a merge deployment).
	Etc *etcmerge.Preview
}

// PlanDeploy computes the Plan of Deploy(opts) followed by
// SimpleWriteDeployment with flags.
func PlanDeploy(ctx context.Context, s *sysroot.Sysroot, opts DeployOptions, flags sysroot.WriteFlags) (*Plan, error) {
	stateroot := opts.Stateroot
	if stateroot == "" {
		if s.Booted() == nil {
			return nil, sysroot.Errorf(sysroot.ErrNotBooted, "Not currently booted into an OSTree system and no --os= argument given")
		}
		stateroot = s.Booted().Stateroot
	}
	c, err := s.Repo().LoadCommit(ctx, opts.Commit)
	if err != nil {
		return nil, err
	}
	serial, err := allocateSerial(s, stateroot, opts.Commit.String())
	if err != nil {
		return nil, err
	}
	p := &Plan{Version: c.Version(), Merge: opts.Merge}
	p.New = &sysroot.Deployment{Index: -1, Stateroot: stateroot, Checksum: opts.Commit.String(), Serial: serial, Origin: opts.Origin}
	p.After = s.Retained(stateroot, p.New, opts.Merge, flags)
	kept := map[*sysroot.Deployment]bool{}
	for _, d := range p.After {
		kept[d] = true
	}
	for _, d := range s.Deployments() {
		if !kept[d] {
			p.Dropped = append(p.Dropped, d)
		}
	}
	if opts.Merge != nil {
		if p.Etc, err = PreviewEtc(ctx, s, opts.Merge, opts.Commit); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// PreviewEtc previews merging merge's /etc changes into commit's
// defaults (its /usr/etc, checked out to a scratch directory).
func PreviewEtc(ctx context.Context, s *sysroot.Sysroot, merge *sysroot.Deployment, commit oid.Checksum) (*etcmerge.Preview, error) {
	tmp, err := os.MkdirTemp(s.Repo().TmpDir(), "grove-etc-preview-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	defaults := filepath.Join(tmp, "etc")
	err = checkout.Checkout(ctx, s.Repo(), commit, defaults, checkout.Options{ForceCopy: true, Subpath: "/usr/etc"})
	if errors.Is(err, checkout.ErrNotFound) {
		err = checkout.Checkout(ctx, s.Repo(), commit, defaults, checkout.Options{ForceCopy: true, Subpath: "/etc", AllowNoent: true})
	}
	if err != nil {
		return nil, fmt.Errorf("checking out the new /usr/etc: %w", err)
	}
	if err := os.MkdirAll(defaults, 0o755); err != nil {
		return nil, err
	}
	root := s.Abs(merge.Dir())
	return etcmerge.PreviewMerge(ctx, filepath.Join(root, "usr/etc"), filepath.Join(root, "etc"), defaults)
}
