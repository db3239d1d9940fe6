package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/sysroot"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/pull"
	"github.com/groveos/grove/core/repo"
)

// Puller fetches refs (or commit checksums) of a remote into the system
// repository, writing refs/remotes/REMOTE/REF, reporting to prog (may be
// nil). RemotePuller is the real one; tests may substitute their own.
type Puller func(ctx context.Context, r *repo.Repo, remote string, refs []string, prog progress.Func) error

// ErrPull wraps pull failures.
var ErrPull = errors.New("admin: pull failed")

// RemotePuller pulls from the system repository's remotes as `ostree
// pull` does (package pull over package remote: HTTP(S) or file:// URLs,
// the remote's signature policy, static deltas when offered, checkpoints
// so a killed pull keeps what arrived). Remotes are read from the
// repository's config and, with sysrootDir (Sysroot.RemotesRoot), from
// its etc/ostree/remotes.d.
func RemotePuller(sysrootDir string) Puller {
	return func(ctx context.Context, r *repo.Repo, name string, refs []string, prog progress.Func) error {
		w := remote.Where{SysrootDir: sysrootDir}
		rem, err := remote.Get(r, w, name)
		if err != nil {
			return err
		}
		p, err := remote.Policy(r, rem, w)
		if err != nil {
			return err
		}
		verify := remote.VerifiersFor(p, nil)
		src, err := remote.Open(ctx, r, rem, remote.SourceOptions{Retries: -1, VerifySummary: verify.Summary})
		if err != nil {
			return err
		}
		_, http := src.(*remote.Source)
		_, err = pull.Pull(ctx, r, src, pull.Options{
			Refs: refs, Depth: 0, Remote: name, Verify: verify.Commit,
			Progress: prog, Checkpoint: 2 * time.Second, Trusted: !http,
		})
		return err
	}
}

// UpgradeOptions configure Upgrade.
type UpgradeOptions struct {
	// Stateroot defaults to the booted deployment's.
	Stateroot string
	// NewRefspec switches the origin to another refspec first (`switch`);
	// "REMOTE:" keeps the ref and changes the remote.
	NewRefspec string
	// OverrideCommit deploys this commit instead of the ref's tip.
	OverrideCommit string
	// AllowDowngrade permits an older commit (always on with NewRefspec).
	AllowDowngrade bool
	// PullOnly fetches without deploying; DeployOnly skips the pull.
	PullOnly, DeployOnly bool
	// Pull fetches from the origin's remote (nil: RemotePuller).
	Pull Puller
	// DryRun resolves the target from what the repository holds (no
	// pull) and returns the Plan instead of deploying.
	DryRun bool
	// Progress receives the pull's events and the deploy's phases.
	Progress progress.Func
}

// UpgradeResult says what Upgrade did.
type UpgradeResult struct {
	Changed    bool
	From, To   string // commits
	Deployment *sysroot.Deployment
	// OldRefspec is the origin before a switch (NewRefspec).
	OldRefspec string
	// Plan is set by DryRun when there is something to deploy.
	Plan *Plan
}

type upgrader struct {
	s                  *sysroot.Sysroot
	stateroot          string
	merge              *sysroot.Deployment
	origin             *keyfile.File
	remote, ref, csum  string
	ignoreUnconfigured bool
}

func newUpgrader(s *sysroot.Sysroot, stateroot string, ignoreUnconfigured bool) (*upgrader, error) {
	if stateroot == "" {
		if s.Booted() == nil {
			return nil, sysroot.Errorf(sysroot.ErrNotBooted, "Not currently booted into an OSTree system and no OS specified")
		}
		stateroot = s.Booted().Stateroot
	}
	u := &upgrader{s: s, stateroot: stateroot, ignoreUnconfigured: ignoreUnconfigured}
	u.merge = s.MergeDeployment(stateroot)
	if u.merge == nil {
		return nil, sysroot.Errorf(sysroot.ErrInvalid, "No previous deployment for OS '%s'", stateroot)
	}
	if u.merge.Origin == nil {
		return nil, sysroot.Errorf(sysroot.ErrInvalid, "No origin known for deployment %s", u.merge.Name())
	}
	if err := u.setOrigin(u.merge.Clone().Origin); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *upgrader) setOrigin(kf *keyfile.File) error {
	u.origin = kf
	if !u.ignoreUnconfigured {
		if st, ok := kf.Get("origin", "unconfigured-state"); ok {
			return sysroot.Errorf(sysroot.ErrInvalid, "origin unconfigured-state: %s", st)
		}
	}
	spec, ok := kf.Get("origin", "refspec")
	if !ok {
		return sysroot.Errorf(sysroot.ErrInvalid, "No origin/refspec in current deployment origin; cannot upgrade via ostree")
	}
	remote, ref, err := oid.ParseRefspec(spec)
	if err != nil {
		return sysroot.Errorf(sysroot.ErrInvalid, "Invalid refspec %s", spec)
	}
	u.remote, u.ref, u.csum = remote, ref, ""
	if c, ok := kf.Get("origin", "override-commit"); ok {
		if !oid.IsChecksum(c) {
			return sysroot.Errorf(sysroot.ErrInvalid, "Invalid checksum %s", c)
		}
		u.csum = c
	}
	return nil
}

func (u *upgrader) refspec() string {
	if u.remote != "" {
		return u.remote + ":" + u.ref
	}
	return u.ref
}

// Upgrade is `ostree admin upgrade` (and, with NewRefspec, `switch`): pull
// the origin (remote origins only), resolve it, refuse a chronologically
// older commit unless allowed, and deploy it as the new default keeping
// the merge and booted deployments, then clean up. The caller holds the
// lock.
func Upgrade(ctx context.Context, s *sysroot.Sysroot, o UpgradeOptions) (*UpgradeResult, error) {
	if o.PullOnly && o.DeployOnly {
		return nil, sysroot.Errorf(sysroot.ErrInvalid, "Cannot simultaneously specify --pull-only and --deploy-only")
	}
	switching := o.NewRefspec != ""
	u, err := newUpgrader(s, o.Stateroot, switching)
	if err != nil {
		return nil, err
	}
	res := &UpgradeResult{From: u.merge.Checksum, OldRefspec: u.refspec()}
	origin := u.origin
	if switching {
		newRemote, newRef := u.remote, ""
		if r, ok := strings.CutSuffix(o.NewRefspec, ":"); ok {
			newRemote, newRef = r, u.ref
		} else {
			rm, rf, err := oid.ParseRefspec(o.NewRefspec)
			if err != nil {
				return nil, sysroot.Errorf(sysroot.ErrInvalid, "Invalid refspec %s", o.NewRefspec)
			}
			if rm != "" {
				newRemote = rm
			}
			newRef = rf
		}
		spec := newRef
		if newRemote != "" {
			spec = newRemote + ":" + newRef
		}
		if spec == res.OldRefspec {
			return nil, sysroot.Errorf(sysroot.ErrInvalid, "Old and new refs are equal: %s", spec)
		}
		origin = sysroot.NewOrigin(spec)
		o.AllowDowngrade = true
	} else {
		sysroot.RemoveTransientState(origin)
		if o.OverrideCommit != "" {
			origin.Set("origin", "override-commit", o.OverrideCommit)
		}
	}
	if err := u.setOrigin(origin); err != nil {
		return nil, err
	}
	r := s.Repo()
	if u.remote != "" && !o.DeployOnly && !o.DryRun {
		puller := o.Pull
		if puller == nil {
			puller = RemotePuller(s.RemotesRoot())
		}
		want := u.ref
		if u.csum != "" {
			want = u.csum
		}
		o.Progress.Report(progress.Event{Phase: "pulling", Item: u.remote + ":" + want})
		if err := puller(ctx, r, u.remote, []string{want}, o.Progress); err != nil {
			return nil, err
		}
	}
	newRev, err := r.ResolveRev(ctx, u.refspec())
	if err != nil && u.csum == "" {
		return nil, err
	}
	if err == nil {
		if c, err := r.LoadCommit(ctx, newRev); err != nil {
			return nil, err
		} else if v, ok := c.Lookup("ostree.endoflife-rebase"); ok {
			if nr, ok := v.Value.(string); ok {
				if u.remote != "" && !o.DeployOnly && !o.DryRun {
					puller := o.Pull
					if puller == nil {
						puller = RemotePuller(s.RemotesRoot())
					}
					if err := puller(ctx, r, u.remote, []string{nr}, o.Progress); err != nil {
						return nil, err
					}
				}
				u.ref = nr
				origin.Set("origin", "refspec", u.refspec())
			}
		}
	}
	if u.csum != "" {
		newRev = mustParse(u.csum)
	} else if newRev, err = r.ResolveRev(ctx, u.refspec()); err != nil {
		return nil, err
	}
	res.To = newRev.String()
	if res.From != res.To && !o.AllowDowngrade {
		if err := checkTimestamps(ctx, r, res.From, res.To); err != nil {
			return nil, err
		}
	}
	// The override moves the ref, as libostree's does, but only once the
	// commit is accepted: libostree moves it first, so a refused downgrade
	// leaves the ref on the older commit and every later upgrade refused.
	if u.csum != "" && !o.DryRun {
		if err := r.SetRef(ctx, u.remote, u.ref, newRev); err != nil {
			return nil, err
		}
	}
	if res.From == res.To {
		return res, nil
	}
	res.Changed = true
	if o.PullOnly {
		return res, nil
	}
	if o.DryRun {
		res.Plan, err = PlanDeploy(ctx, s, DeployOptions{Stateroot: u.stateroot, Commit: newRev, Origin: origin, Merge: u.merge}, sysroot.WriteFlags{})
		return res, err
	}
	d, err := Deploy(ctx, s, DeployOptions{Stateroot: u.stateroot, Commit: newRev, Origin: origin, Merge: u.merge, Progress: o.Progress})
	if err != nil {
		return nil, err
	}
	o.Progress.Report(progress.Event{Phase: "writing boot entries"})
	if err := s.SimpleWriteDeployment(ctx, u.stateroot, d, u.merge, sysroot.WriteFlags{}); err != nil {
		return nil, err
	}
	o.Progress.Report(progress.Event{Phase: "done", Final: true})
	res.Deployment = d
	return res, nil
}

// checkTimestamps refuses a downgrade, with libostree's message.
func checkTimestamps(ctx context.Context, r *repo.Repo, from, to string) error {
	fc, err := r.LoadCommit(ctx, mustParse(from))
	if err != nil {
		return err
	}
	tc, err := r.LoadCommit(ctx, mustParse(to))
	if err != nil {
		return err
	}
	if tc.Timestamp > fc.Timestamp || tc.Timestamp == fc.Timestamp || from == to {
		return nil
	}
	format := func(ts uint64) string { return time.Unix(int64(ts), 0).UTC().Format("Mon Jan _2 15:04:05 2006") }
	return sysroot.Errorf(sysroot.ErrInvalid, "Upgrade target revision '%s' with timestamp '%s' is chronologically older than current revision '%s' with timestamp '%s'; use --allow-downgrade to permit",
		to, format(tc.Timestamp), from, format(fc.Timestamp))
}

// SetOrigin is `ostree admin set-origin`: add the remote if missing (with
// its options, where libostree would: etc/ostree/remotes.d of a booted
// sysroot, unless core.add-remotes-config-dir is false; the repository's
// config for an offline one) and
// point the deployment's origin at REMOTE:BRANCH (the current ref when
// branch is empty).
func SetOrigin(ctx context.Context, s *sysroot.Sysroot, d *sysroot.Deployment, name, rawURL, branch string, options [][2]string) error {
	if err := remote.Add(ctx, s.Repo(), remote.Where{SysrootDir: s.RemotesRoot()}, remote.AddOptions{
		Name: name, URL: rawURL, Set: options, IfNotExists: true,
	}); err != nil {
		return err
	}
	ref := branch
	if ref == "" {
		if d.Origin == nil {
			return sysroot.Errorf(sysroot.ErrInvalid, "No origin/refspec in current deployment origin")
		}
		_, r, err := oid.ParseRefspec(d.Refspec())
		if err != nil {
			return sysroot.Errorf(sysroot.ErrInvalid, "Invalid refspec %s", d.Refspec())
		}
		ref = r
	}
	return s.WriteOrigin(d, sysroot.NewOrigin(name+":"+ref))
}

// DeleteRef removes a ref of the system repository, ignoring a missing
// one (what `ostree admin switch` does to the old origin ref).
func DeleteRef(ctx context.Context, s *sysroot.Sysroot, remote, ref string) error {
	err := s.Repo().DeleteRef(ctx, remote, ref)
	if err != nil && errors.Is(err, repo.ErrRefNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sysroot: deleting ref: %w", err)
	}
	return nil
}
