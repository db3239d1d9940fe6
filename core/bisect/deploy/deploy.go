package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/groveos/grove/core/bisect"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/admin"
)

// Errors returned by this package.
var (
	ErrNoDeployment = errors.New("bisect: no deployment")
	ErrGone         = errors.New("bisect: a deployment the bisect needs is gone")
)

// ID names d for the bisect state.
func ID(d *sysroot.Deployment) bisect.DeploymentID {
	sum, _ := d.Commit()
	return bisect.DeploymentID{Commit: sum, Serial: d.Serial}
}

// Find is the deployment of stateroot with id, nil when there is none.
func Find(s *sysroot.Sysroot, stateroot string, id bisect.DeploymentID) *sysroot.Deployment {
	for _, d := range s.Deployments() {
		if d.Stateroot == stateroot && d.Checksum == id.Commit.String() && d.Serial == id.Serial {
			return d
		}
	}
	return nil
}

// Stateroot is the stateroot a bisect works on: the one given, else the
// booted deployment's, else the default deployment's.
func Stateroot(s *sysroot.Sysroot, given string) (string, error) {
	switch {
	case given != "":
		return given, nil
	case s.Booted() != nil:
		return s.Booted().Stateroot, nil
	case len(s.Deployments()) > 0:
		return s.Deployments()[0].Stateroot, nil
	}
	return "", fmt.Errorf("%w: the sysroot has no deployments", ErrNoDeployment)
}

// Endpoints are the default range of a sysroot bisect: the stateroot's
// first deployment (the default, what boots next) is bad, and the one
// after it (the rollback) good. Either is nil when the stateroot has no
// such deployment.
func Endpoints(s *sysroot.Sysroot, stateroot string) (good, bad *sysroot.Deployment) {
	for _, d := range s.Deployments() {
		if d.Stateroot != stateroot || d.Staged {
			continue
		}
		if bad == nil {
			bad = d
		} else {
			return d, bad
		}
	}
	return nil, bad
}

// Begin records the sysroot's state for a bisect of stateroot. With
// deploy, the default deployment and the deployments in keep (the good
// one) are pinned, so that nothing cleans them up while candidates come
// and go; the pins Begin adds are the ones Finish removes.
func Begin(ctx context.Context, s *sysroot.Sysroot, stateroot string, deploy bool, keep ...*sysroot.Deployment) (*bisect.Admin, error) {
	_, def := Endpoints(s, stateroot)
	if def == nil {
		return nil, fmt.Errorf("%w in stateroot %s", ErrNoDeployment, stateroot)
	}
	a := &bisect.Admin{Stateroot: stateroot, Deploy: deploy, Default: ID(def)}
	if !deploy {
		return a, nil
	}
	for _, d := range append([]*sysroot.Deployment{def}, keep...) {
		if d == nil || d.Pinned() || slices.Contains(a.Pinned, ID(d)) {
			continue
		}
		if _, err := admin.SetPinned(s, d, true); err != nil {
			return nil, err
		}
		a.Pinned = append(a.Pinned, ID(d))
	}
	return a, nil
}

// Staged reports whether commit is the candidate staged last.
func Staged(a *bisect.Admin, commit oid.Checksum) bool {
	return len(a.Staged) > 0 && a.Staged[len(a.Staged)-1].Commit == commit
}

// Stage makes commit the next boot deployment: the candidate staged
// before is undeployed (unless it is booted: it goes at the end), the new
// one deployed with the original default's /etc changes, kernel arguments
// and origin (its pin left out), and placed first. It returns the
// bookkeeping to save.
func Stage(ctx context.Context, s *sysroot.Sysroot, a *bisect.Admin, commit oid.Checksum) (*bisect.Admin, error) {
	def := Find(s, a.Stateroot, a.Default)
	if def == nil {
		return nil, fmt.Errorf("%w: the original default deployment %s.%d", ErrGone, a.Default.Commit, a.Default.Serial)
	}
	next := clone(a)
	keep, dropped := withoutStaged(s, a)
	next.Staged = dropped.kept
	origin := def.Clone().Origin
	if origin != nil {
		sysroot.RemoveTransientState(origin)
	}
	d, err := admin.Deploy(ctx, s, admin.DeployOptions{Stateroot: a.Stateroot, Commit: commit, Origin: origin, Merge: def})
	if err != nil {
		return nil, err
	}
	list := append([]*sysroot.Deployment{d}, keep...)
	if err := s.WriteDeployments(ctx, list, sysroot.WriteOptions{}); err != nil {
		return nil, err
	}
	next.Staged = append(next.Staged, ID(d))
	if _, err := s.Cleanup(ctx, sysroot.CleanupOptions{}); err != nil {
		return next, fmt.Errorf("bisect: cleaning the sysroot up: %w", err)
	}
	return next, nil
}

// Finish puts the sysroot back: the original default deployment first,
// the candidates undeployed (a booted one stays, after it, until the
// machine boots something else and Finish runs again), the pins Begin
// added removed. It is idempotent.
func Finish(ctx context.Context, s *sysroot.Sysroot, a *bisect.Admin) (*bisect.Admin, error) {
	next := clone(a)
	if !a.Deploy {
		return next, nil
	}
	def := Find(s, a.Stateroot, a.Default)
	if def == nil {
		return nil, fmt.Errorf("%w: the original default deployment %s.%d", ErrGone, a.Default.Commit, a.Default.Serial)
	}
	keep, dropped := withoutStaged(s, a)
	list := []*sysroot.Deployment{def}
	for _, d := range keep {
		if d != def {
			list = append(list, d)
		}
	}
	if !slices.Equal(list, s.Deployments()) {
		if err := s.WriteDeployments(ctx, list, sysroot.WriteOptions{}); err != nil {
			return nil, err
		}
		if _, err := s.Cleanup(ctx, sysroot.CleanupOptions{}); err != nil {
			return nil, fmt.Errorf("bisect: cleaning the sysroot up: %w", err)
		}
	}
	next.Staged = dropped.kept
	var still []bisect.DeploymentID
	for _, id := range a.Pinned {
		d := Find(s, a.Stateroot, id)
		if d == nil {
			continue // gone: nothing to unpin
		}
		if _, err := admin.SetPinned(s, d, false); err != nil {
			still = append(still, id)
			next.Pinned = still
			return next, err
		}
	}
	next.Pinned = nil
	return next, nil
}

type droppedStaged struct {
	kept []bisect.DeploymentID // staged candidates that could not go (booted)
}

// withoutStaged is the deployment list without the bisect's candidates,
// except a booted one, which moves to the end.
func withoutStaged(s *sysroot.Sysroot, a *bisect.Admin) ([]*sysroot.Deployment, droppedStaged) {
	var keep, booted []*sysroot.Deployment
	var res droppedStaged
	for _, d := range s.Deployments() {
		if d.Stateroot != a.Stateroot || !slices.Contains(a.Staged, ID(d)) {
			keep = append(keep, d)
			continue
		}
		if s.Booted() != nil && d.Equal(s.Booted()) {
			booted = append(booted, d)
			res.kept = append(res.kept, ID(d))
		}
	}
	return append(keep, booted...), res
}

func clone(a *bisect.Admin) *bisect.Admin {
	c := *a
	c.Pinned = slices.Clone(a.Pinned)
	c.Staged = slices.Clone(a.Staged)
	return &c
}
