package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/groveos/grove/core/bisect"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/trial"
	"github.com/spf13/cobra"
)

func init() { register(func() *cobra.Command { return newBisectCmd(openRepoBisect, nil) }) }

// bisectOpener opens what a bisect verb works on (a repository, or a
// sysroot's), with the bisect lock when lock is set.
type bisectOpener func(cmd *cobra.Command, lock bool) (*bisectSession, error)

// bisectHooks let a bisect act on each new step: admin bisect stages the
// candidate as the next boot deployment and puts the sysroot back at the
// end. Both run with the lock held, after the state is saved; a state they
// return is saved again.
type bisectHooks interface {
	settle(ctx context.Context, w io.Writer, st *bisect.State, step *bisect.Step) (*bisect.State, error)
	reset(ctx context.Context, w io.Writer, st *bisect.State) error
}

// newBisectCmd builds `bisect` over what open opens; start, when given,
// replaces the repository's start verb.
func newBisectCmd(open bisectOpener, start *cobra.Command) *cobra.Command {
	if start == nil {
		start = newBisectStartCmd(open)
	}
	cmd := &cobra.Command{
		Use:   "bisect start|good|bad|skip|terms|log|replay|reset|run|visualize …",
		Short: "Use binary search to find the commit that introduced a change",
		Long: `Find the first commit in a branch's history whose tree behaves differently, as git bisect
does: mark a bad (new) commit and a good (old) one, then test the commit grove picks
and say good, bad or skip until the first bad commit is found, or let "bisect run"
test each one with a command. With --term-old/--term-new other words replace good
and bad (e.g. fast and slow); "old" and "new" always work. The state lives in the
repository (state/bisect/), so a bisect survives restarts.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			// A mark with the bisect's own terms (fast, slow, …).
			return runBisectMark(cmd, open, args[0], args[1:])
		},
	}
	cmd.AddCommand(start, newBisectTermsCmd(open), newBisectLogCmd(open), newBisectReplayCmd(open),
		newBisectResetCmd(open), newBisectRunCmd(open), newBisectVisualizeCmd(open), newBisectNextCmd(open))
	for _, m := range []struct{ word, use, short string }{
		{"good", "good [REV…]", "Mark commits good (old): the commit under test when none is named"},
		{"bad", "bad [REV]", "Mark a commit bad (new): the commit under test when none is named"},
		{"old", "old [REV…]", "Mark commits in the old state (whatever the terms)"},
		{"new", "new [REV]", "Mark a commit in the new state (whatever the terms)"},
		{"skip", "skip [REV|REV..REV…]", "Mark commits untestable: the commit under test when none is named"},
	} {
		word := m.word
		cmd.AddCommand(&cobra.Command{
			Use: m.use, Short: m.short, Args: cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, args []string) error { return runBisectMark(cmd, open, word, args) },
		})
	}
	return cmd
}

// bisectSession is an open repository with its bisect store locked.
type bisectSession struct {
	r      *repo.Repo
	store  *bisect.Store
	unlock func()
	where  remote.Where // where the repository's remotes are kept
	// l reads commits: the repository, or a fetcher when the bisect
	// fetches from a remote (set by use).
	l       bisect.Loader
	fetcher *trial.Fetcher
	hooks   bisectHooks
}

// use sets the session up for st: commits come through a fetcher when
// st names a remote.
func (s *bisectSession) use(remoteName string) error {
	s.l, s.fetcher = s.r, nil
	if remoteName == "" {
		return nil
	}
	f, err := trial.NewFetcher(s.r, s.where, remoteName, nil)
	if err != nil {
		return err
	}
	s.l, s.fetcher = f, f
	return nil
}

// ensureTrees makes sure the trees of commits are in the repository
// (fetching them when the bisect fetches).
func (s *bisectSession) ensureTrees(ctx context.Context, commits ...oid.Checksum) error {
	if s.fetcher == nil {
		return nil
	}
	for _, c := range commits {
		if err := s.fetcher.EnsureTree(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// load reads the state and sets the session up for it.
func (s *bisectSession) load() (*bisect.State, error) {
	st, err := s.store.Load()
	if err != nil {
		return nil, err
	}
	return st, s.use(st.Remote)
}

// openRepoBisect opens --repo's bisect; without lock it is for verbs
// that only read (they may run beside a bisect run).
func openRepoBisect(cmd *cobra.Command, lock bool) (*bisectSession, error) {
	r, err := openRepo(cmd.Context())
	if err != nil {
		return nil, err
	}
	return newBisectSession(r, lock)
}

// newBisectSession is a session over r's bisect store.
func newBisectSession(r *repo.Repo, lock bool) (*bisectSession, error) {
	store := bisect.StoreAt(r.Path())
	unlock := func() {}
	if lock {
		var err error
		if unlock, err = store.Lock(); err != nil {
			return nil, err
		}
	}
	return &bisectSession{r: r, store: store, unlock: unlock, l: r}, nil
}

// save stores st, prints the step, and lets the hooks act on it.
func (s *bisectSession) save(ctx context.Context, w io.Writer, st *bisect.State, step *bisect.Step) error {
	if err := s.store.Save(st); err != nil {
		return err
	}
	if err := s.printStep(ctx, w, st, step); err != nil {
		return err
	}
	if s.hooks == nil {
		return nil
	}
	next, err := s.hooks.settle(ctx, w, st, step)
	if err != nil {
		return err
	}
	if next != nil && next != st {
		return s.store.Save(next)
	}
	return nil
}

// resolveCommit resolves rev to a commit the repository has (or l
// fetches).
func resolveCommit(ctx context.Context, r *repo.Repo, l bisect.Loader, rev string) (oid.Checksum, error) {
	sum, err := r.ResolveRev(ctx, rev)
	if err != nil {
		return sum, err
	}
	if _, err := l.LoadCommit(ctx, sum); err != nil {
		if errors.Is(err, repo.ErrNotFound) {
			return sum, fmt.Errorf("bisect: %s: commit %s is not in the repository", rev, sum)
		}
		return sum, err
	}
	return sum, nil
}

func resolveCommits(ctx context.Context, r *repo.Repo, l bisect.Loader, revs []string) ([]oid.Checksum, error) {
	out := make([]oid.Checksum, 0, len(revs))
	for _, rev := range revs {
		sum, err := resolveCommit(ctx, r, l, rev)
		if err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// expandRange turns A..B into the commits after A up to B (B's parent
// chain back to, not including, A), as git rev-list A..B on a linear
// history.
func expandRange(ctx context.Context, r *repo.Repo, l bisect.Loader, spec string) ([]oid.Checksum, error) {
	from, to, _ := strings.Cut(spec, "..")
	a, err := resolveCommit(ctx, r, l, from)
	if err != nil {
		return nil, err
	}
	b, err := resolveCommit(ctx, r, l, to)
	if err != nil {
		return nil, err
	}
	var out []oid.Checksum
	for cur := b; cur != a; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := l.LoadCommit(ctx, cur)
		if err != nil {
			return nil, fmt.Errorf("bisect: %s: %w", spec, err)
		}
		out = append(out, cur)
		if !c.HasParent() {
			return nil, fmt.Errorf("bisect: %s: %s is not an ancestor of %s", spec, a, b)
		}
		cur = c.Parent
	}
	return out, nil
}

func newBisectStartCmd(open bisectOpener) *cobra.Command {
	var oldTerm, newTerm, remoteName string
	cmd := &cobra.Command{
		Use:   "start [--term-old=TERM --term-new=TERM] [--remote=REMOTE] [BAD [GOOD…]]",
		Short: "Start a bisect (ending any bisect in progress)",
		Long: `Start a bisect, ending any bisect in progress. BAD and GOOD may be marked now or later.
With --remote, commits the repository lacks are fetched from REMOTE as they are needed:
the history as commit objects only, and the trees of the commits tested.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := open(cmd, true)
			if err != nil {
				return err
			}
			defer s.unlock()
			terms := bisect.Terms{Old: oldTerm, New: newTerm}
			if err := terms.Validate(); err != nil {
				return err
			}
			if err := s.use(remoteName); err != nil {
				return err
			}
			sums, err := resolveCommits(ctx, s.r, s.l, args)
			if err != nil {
				return err
			}
			o := bisect.StartOptions{Terms: terms, Remote: remoteName}
			if len(sums) > 0 {
				o.Bad, o.Good = sums[0], sums[1:]
			}
			st, step, err := bisect.StartWith(ctx, s.l, o)
			if err != nil {
				return err
			}
			return s.save(ctx, cmd.OutOrStdout(), st, step)
		},
	}
	f := cmd.Flags()
	f.StringVar(&oldTerm, "term-old", "good", "Word for the old state")
	f.StringVar(&oldTerm, "term-good", "good", "Same as --term-old")
	f.StringVar(&newTerm, "term-new", "bad", "Word for the new state")
	f.StringVar(&newTerm, "term-bad", "bad", "Same as --term-new")
	f.StringVar(&remoteName, "remote", "", "Fetch the commits the repository lacks from this remote")
	return cmd
}

// runBisectMark marks commits with word: a term, old/new or skip.
func runBisectMark(cmd *cobra.Command, open bisectOpener, word string, args []string) error {
	ctx := cmd.Context()
	s, err := open(cmd, true)
	if err != nil {
		return err
	}
	defer s.unlock()
	st, err := s.load()
	if err != nil {
		return err
	}
	v, ok := st.Terms.Verdict(word)
	if !ok {
		if word == "good" || word == "bad" {
			return fmt.Errorf("bisect: invalid command: you're currently in a %s/%s bisect", st.Terms.New, st.Terms.Old)
		}
		return fmt.Errorf("bisect: unknown command %q (the terms are %s and %s)", word, st.Terms.Old, st.Terms.New)
	}
	var sums []oid.Checksum
	for _, a := range args {
		if v == bisect.Skip && strings.Contains(a, "..") {
			rng, err := expandRange(ctx, s.r, s.l, a)
			if err != nil {
				return err
			}
			sums = append(sums, rng...)
			continue
		}
		sum, err := resolveCommit(ctx, s.r, s.l, a)
		if err != nil {
			return err
		}
		sums = append(sums, sum)
	}
	if v == bisect.Skip && len(args) > 0 && len(sums) == 0 {
		return nil // an empty range
	}
	next, step, err := st.Mark(ctx, s.l, v, sums...)
	if err != nil {
		return err
	}
	return s.save(ctx, cmd.OutOrStdout(), next, step)
}

func newBisectTermsCmd(open bisectOpener) *cobra.Command {
	var oldOnly, newOnly bool
	cmd := &cobra.Command{
		Use:   "terms [--term-old | --term-new]",
		Short: "Show the words of the bisect in progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open(cmd, false)
			if err != nil {
				return err
			}
			st, err := s.store.Load()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch {
			case oldOnly && newOnly:
				return errors.New("bisect terms: --term-old and --term-new exclude each other")
			case oldOnly:
				fmt.Fprintln(w, st.Terms.Old)
			case newOnly:
				fmt.Fprintln(w, st.Terms.New)
			default:
				fmt.Fprintf(w, "Your current terms are %s for the old state\nand %s for the new state.\n", st.Terms.Old, st.Terms.New)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&oldOnly, "term-old", false, "Print the old term only")
	f.BoolVar(&oldOnly, "term-good", false, "Same as --term-old")
	f.BoolVar(&newOnly, "term-new", false, "Print the new term only")
	f.BoolVar(&newOnly, "term-bad", false, "Same as --term-new")
	return cmd
}

func newBisectLogCmd(open bisectOpener) *cobra.Command {
	return &cobra.Command{
		Use:   "log",
		Short: "Print the bisect log (replayable with bisect replay)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open(cmd, false)
			if err != nil {
				return err
			}
			st, err := s.store.Load()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, l := range st.Log {
				fmt.Fprintln(w, l)
			}
			return nil
		},
	}
}

func newBisectReplayCmd(open bisectOpener) *cobra.Command {
	return &cobra.Command{
		Use:   "replay FILE",
		Short: "Start over and apply the marks of a bisect log (- for standard input)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := open(cmd, true)
			if err != nil {
				return err
			}
			defer s.unlock()
			var in io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("bisect: replay: %w", err)
				}
				defer f.Close()
				in = f
			}
			// A log's start line may name a remote: read it first.
			b, err := io.ReadAll(in)
			if err != nil {
				return fmt.Errorf("bisect: replay: %w", err)
			}
			if err := s.use(logRemote(string(b))); err != nil {
				return err
			}
			st, step, err := bisect.Replay(ctx, s.l, args[0], strings.NewReader(string(b)), func(ctx context.Context, rev string) (oid.Checksum, error) {
				return resolveCommit(ctx, s.r, s.l, rev)
			})
			if err != nil {
				return err
			}
			if old, err := s.store.Load(); err == nil {
				st.Admin = old.Admin // a sysroot's bookkeeping is not in the log
			}
			return s.save(ctx, cmd.OutOrStdout(), st, step)
		},
	}
}

// logRemote finds the --remote of a bisect log's last start line.
func logRemote(log string) string {
	name := ""
	for _, l := range strings.Split(log, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "grove bisect start") {
			continue
		}
		name = ""
		for _, w := range strings.Fields(l) {
			if v, ok := strings.CutPrefix(strings.Trim(w, "'"), "--remote="); ok {
				name = v
			}
		}
	}
	return name
}

func newBisectResetCmd(open bisectOpener) *cobra.Command {
	return &cobra.Command{
		Use:   "reset",
		Short: "End the bisect: remove its state and scratch trees",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open(cmd, true)
			if err != nil {
				return err
			}
			defer s.unlock()
			if !s.store.Active() {
				fmt.Fprintln(cmd.OutOrStdout(), "We are not bisecting.")
			} else if s.hooks != nil {
				// Put things back first; a state file too broken to say
				// what to put back is kept for the user to look at.
				st, err := s.store.Load()
				if err != nil {
					return err
				}
				if err := s.hooks.reset(cmd.Context(), cmd.OutOrStdout(), st); err != nil {
					return err
				}
			}
			return s.store.Remove()
		},
	}
}

func newBisectNextCmd(open bisectOpener) *cobra.Command {
	return &cobra.Command{
		Use:   "next",
		Short: "Say where the bisect stands (and, for a sysroot, stage the candidate again)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := open(cmd, true)
			if err != nil {
				return err
			}
			defer s.unlock()
			st, err := s.load()
			if err != nil {
				return err
			}
			step, err := st.Next(ctx, s.l)
			if err != nil {
				return err
			}
			return s.save(ctx, cmd.OutOrStdout(), st, step)
		},
	}
}
