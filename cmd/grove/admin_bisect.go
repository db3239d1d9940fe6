package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/bisect"
	"github.com/groveos/grove/core/bisect/deploy"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/sysroot"
)

func init() { registerAdmin(newAdminBisectCmd) }

// newAdminBisectCmd is `grove bisect` over a sysroot's repository, with
// endpoints taken from its deployments and, with --deploy, each candidate
// staged as the next boot deployment.
func newAdminBisectCmd() *cobra.Command {
	open := func(cmd *cobra.Command, lock bool) (*bisectSession, error) {
		sys, err := openSysroot(cmd.Context(), cmd, lock)
		if err != nil {
			return nil, err
		}
		s, err := newBisectSession(sys.Repo(), lock)
		if err != nil {
			sys.Unlock()
			return nil, err
		}
		s.where = remote.Where{SysrootDir: sys.RemotesRoot()}
		s.hooks = &adminBisectHooks{sys: sys, s: s}
		unlock := s.unlock
		s.unlock = func() { unlock(); sys.Unlock() }
		return s, nil
	}
	cmd := newBisectCmd(open, newAdminBisectStartCmd(open))
	cmd.Short = "Find the commit that broke a system, between its deployments"
	cmd.Long = `Bisect the history between two deployments of a sysroot, as grove bisect bisects a
repository's: "start" takes the rollback deployment as good and the default deployment as
bad (or --good/--bad); with --deploy each candidate is deployed as the next boot
deployment, for the admin to reboot, test and mark good, bad or skip, and when the bisect
ends (or on reset) the deployments are put back as they were. Commits the system
repository lacks come from the default deployment's origin remote as they are needed.
"run" tests candidates in scratch checkouts instead of reboots.`
	return cmd
}

func newAdminBisectStartCmd(open bisectOpener) *cobra.Command {
	var goodRev, badRev, oldTerm, newTerm, remoteName string
	var deployFlag, noFetch bool
	cmd := &cobra.Command{
		Use:   "start [--good=REV] [--bad=REV] [--deploy] [--remote=REMOTE | --no-fetch]",
		Short: "Start bisecting between deployments (default: rollback good, default bad)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := open(cmd, true)
			if err != nil {
				return err
			}
			defer s.unlock()
			h := s.hooks.(*adminBisectHooks)
			terms := bisect.Terms{Old: oldTerm, New: newTerm}
			if err := terms.Validate(); err != nil {
				return err
			}
			stateroot, err := deploy.Stateroot(h.sys, ag.os)
			if err != nil {
				return err
			}
			goodDep, badDep := deploy.Endpoints(h.sys, stateroot)
			if badDep == nil {
				return fmt.Errorf("bisect: stateroot %s has no deployment", stateroot)
			}
			if !noFetch && remoteName == "" {
				remoteName = originRemote(s, badDep)
			}
			if noFetch {
				remoteName = ""
			}
			if err := s.use(remoteName); err != nil {
				return err
			}
			// A bisect in progress is put back before the new one starts.
			if old, err := s.store.Load(); err == nil {
				if err := h.reset(ctx, cmd.OutOrStdout(), old); err != nil {
					return err
				}
			}
			endpoint := func(rev string, d *sysroot.Deployment, what string) (oid.Checksum, error) {
				if rev != "" {
					return resolveCommit(ctx, s.r, s.l, rev)
				}
				if d == nil {
					return oid.Checksum{}, fmt.Errorf("bisect: stateroot %s has no %s deployment: give --%s=REV", stateroot, what, map[string]string{"rollback": "good", "default": "bad"}[what])
				}
				return d.Commit()
			}
			bad, err := endpoint(badRev, badDep, "default")
			if err != nil {
				return err
			}
			good, err := endpoint(goodRev, goodDep, "rollback")
			if err != nil {
				return err
			}
			var keep []*sysroot.Deployment
			if goodRev == "" {
				keep = append(keep, goodDep)
			}
			// Check the range before anything on the sysroot changes.
			if _, err := bisect.Walk(ctx, s.l, terms, bad, []oid.Checksum{good}); err != nil {
				return err
			}
			a, err := deploy.Begin(ctx, h.sys, stateroot, deployFlag, keep...)
			if err != nil {
				return err
			}
			st, step, err := bisect.StartWith(ctx, s.l, bisect.StartOptions{Terms: terms, Bad: bad, Good: []oid.Checksum{good}, Remote: remoteName, Admin: a})
			if err != nil {
				deploy.Finish(ctx, h.sys, a)
				return err
			}
			return s.save(ctx, cmd.OutOrStdout(), st, step)
		},
	}
	f := cmd.Flags()
	f.StringVar(&goodRev, "good", "", "The good (old) commit (default: the rollback deployment's)")
	f.StringVar(&badRev, "bad", "", "The bad (new) commit (default: the default deployment's)")
	f.BoolVar(&deployFlag, "deploy", false, "Deploy each candidate as the next boot deployment")
	f.StringVar(&remoteName, "remote", "", "Fetch missing commits from this remote (default: the default deployment's origin remote)")
	f.BoolVar(&noFetch, "no-fetch", false, "Fetch nothing: every candidate must be in the system repository")
	f.StringVar(&oldTerm, "term-old", "good", "Word for the old state")
	f.StringVar(&newTerm, "term-new", "bad", "Word for the new state")
	return cmd
}

// originRemote is the remote of d's origin refspec when the sysroot knows
// it ("" otherwise).
func originRemote(s *bisectSession, d *sysroot.Deployment) string {
	name, _, err := oid.ParseRefspec(d.Refspec())
	if err != nil || name == "" {
		return ""
	}
	if _, err := remote.Get(s.r, s.where, name); err != nil {
		return ""
	}
	return name
}

// adminBisectHooks stage candidates and put the sysroot back.
type adminBisectHooks struct {
	sys *sysroot.Sysroot
	s   *bisectSession
}

func (h *adminBisectHooks) settle(ctx context.Context, w io.Writer, st *bisect.State, step *bisect.Step) (*bisect.State, error) {
	a := st.Admin
	if a == nil || !a.Deploy {
		return st, nil
	}
	switch {
	case step.Waiting():
		return st, nil
	case step.Done():
		return h.finish(ctx, w, st)
	}
	cand := step.Candidate
	if deploy.Staged(a, cand) && deploy.Find(h.sys, a.Stateroot, a.Staged[len(a.Staged)-1]) != nil {
		fmt.Fprintf(w, "%s is the next boot deployment already: reboot into it and test it.\n", cand)
		return st, nil
	}
	if err := h.s.ensureTrees(ctx, cand); err != nil {
		return nil, fmt.Errorf("bisect: fetching the candidate: %w (the mark is saved: \"grove admin bisect next\" tries again, \"skip\" passes it by)", err)
	}
	next, err := deploy.Stage(ctx, h.sys, a, cand)
	if next != nil {
		n := st.Clone()
		n.Admin = next
		st = n
	}
	if err != nil {
		return st, fmt.Errorf("bisect: deploying the candidate: %w (the mark is saved: \"grove admin bisect next\" tries again)", err)
	}
	d := deploy.Find(h.sys, a.Stateroot, next.Staged[len(next.Staged)-1])
	fmt.Fprintf(w, "Deployed %s.%d as the next boot deployment: reboot, test, then say\n  grove admin bisect %s|%s|skip\n", d.Checksum, d.Serial, st.Terms.Old, st.Terms.New)
	return st, nil
}

func (h *adminBisectHooks) finish(ctx context.Context, w io.Writer, st *bisect.State) (*bisect.State, error) {
	a := st.Admin
	if a == nil || !a.Deploy || len(a.Staged) == 0 && len(a.Pinned) == 0 {
		return st, nil
	}
	next, err := deploy.Finish(ctx, h.sys, a)
	if next != nil {
		n := st.Clone()
		n.Admin = next
		st = n
	}
	if err != nil {
		return st, err
	}
	fmt.Fprintf(w, "Deployments put back: %s.%d is the default deployment again.\n", a.Default.Commit, a.Default.Serial)
	if len(next.Staged) > 0 {
		fmt.Fprintf(w, "The booted candidate %s.%d stays until the machine boots another deployment; run \"grove admin bisect reset\" then.\n", next.Staged[0].Commit, next.Staged[0].Serial)
	}
	return st, nil
}

func (h *adminBisectHooks) reset(ctx context.Context, w io.Writer, st *bisect.State) error {
	next, err := h.finish(ctx, w, st)
	if err != nil {
		if next != nil {
			h.s.store.Save(next)
		}
		return err
	}
	return nil
}
