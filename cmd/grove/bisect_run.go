package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/groveos/grove/core/bisect"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/trial"
	"github.com/spf13/cobra"
)

func newBisectRunCmd(open bisectOpener) *cobra.Command {
	var sandbox string
	var writable bool
	cmd := &cobra.Command{
		Use:   "run [--sandbox=auto|bwrap|chroot|none] [--writable] CMD [ARG…]",
		Short: "Test each candidate with a command until the first bad commit is found",
		Long: `Check each candidate out into a scratch tree (hardlinks, updated in place from the previous
candidate) and run CMD inside it: under bubblewrap when it works, else chrooted when root,
else on the host against a copy with $GROVE_BISECT_ROOT naming the tree. CMD is looked up
on the tree's PATH, in the tree, or (a path with a slash) on the host. Its exit status
marks the candidate as git bisect run does: 0 good, 125 skip, 1-127 otherwise bad, and
anything else (128 and above, a signal) stops the run. Sandboxed, the tree is read-only
unless --writable, which gives the command a fresh copy to change.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sb, err := trial.ParseSandbox(sandbox)
			if err != nil {
				return err
			}
			return runBisectRun(cmd, open, args, sb, writable)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&sandbox, "sandbox", "auto", "How to confine CMD to the tree: auto, bwrap, chroot or none")
	cmd.Flags().BoolVar(&writable, "writable", false, "Give CMD a writable copy of each tree instead of read-only hardlinks")
	return cmd
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_=.,/:@+", r))
		}) < 0 {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func runBisectRun(cmd *cobra.Command, open bisectOpener, args []string, sb trial.Sandbox, writable bool) error {
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
	w := cmd.OutOrStdout()
	tr, err := trial.New(ctx, s.r, s.store.ScratchDir(), trial.Options{
		Command: args, Sandbox: sb, Writable: writable, Stdout: w, Stderr: cmd.ErrOrStderr(), Fetcher: s.fetcher,
	})
	if err != nil {
		return fmt.Errorf("bisect run: %w", err)
	}
	fmt.Fprintf(w, "bisect run: sandbox %s, trees in %s\n", tr.Sandbox(), tr.Root())
	quoted := shellQuote(args)
	var tests, skips int
	event := func(e bisect.RunEvent) {
		switch e.Kind {
		case bisect.EventTesting:
			if e.Step.Left > 0 || e.Step.Steps > 0 || tests+skips > 0 {
				fmt.Fprintf(w, "Bisecting: %d %s left to test after this (roughly %d %s)\n", e.Step.Left, plural(e.Step.Left, "commit", "commits"),
					e.Step.Steps, plural(e.Step.Steps, "step", "steps"))
			}
			fmt.Fprintf(w, "running %s in %s\n", quoted, describe(e.Commit, e.Step.Range.Commit(e.Commit)))
		case bisect.EventTested:
			if e.Verdict == bisect.Skip {
				skips++
			} else {
				tests++
			}
			fmt.Fprintf(w, "%s is %s (exit %d)\n", e.Commit, e.Verdict.Word(st.Terms), e.Code)
		case bisect.EventUntestable:
			skips++
			fmt.Fprintf(w, "%s cannot be tested, skipped: %v\n", e.Commit, errors.Unwrap(e.Err))
		case bisect.EventVerifyingOld:
			fmt.Fprintf(w, "checking that the command runs at all, on the %s commit %s\n", st.Terms.Old, e.Commit)
		}
	}
	final, step, err := bisect.Run(ctx, s.l, st, bisect.RunOptions{
		Test:  tr.Test,
		Save:  s.store.Save,
		Event: event,
	})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return errors.New("bisect run: interrupted (the marks so far are kept: run it again to go on)")
		}
		return err
	}
	if s.hooks != nil {
		next, err := s.hooks.settle(ctx, w, final, step)
		if err != nil {
			return err
		}
		if next != nil && next != final {
			if err := s.store.Save(next); err != nil {
				return err
			}
		}
	}
	switch {
	case !step.FirstBad.IsZero():
		if err := s.printCulprit(ctx, w, final.Terms, step); err != nil {
			return err
		}
		fmt.Fprintf(w, "bisect found the first %s commit in %d %s (%d skipped)\n", final.Terms.New, tests, plural(tests, "test", "tests"), skips)
		return nil
	case len(step.Possible) > 0:
		printPossible(w, final.Terms, step)
		return errors.New("bisect run cannot continue any more: only skipped commits are left")
	}
	return nil
}

func newBisectVisualizeCmd(open bisectOpener) *cobra.Command {
	return &cobra.Command{
		Use:     "visualize",
		Aliases: []string{"view"},
		Short:   "Show the commits left to test, with the marks made so far",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, err := open(cmd, false)
			if err != nil {
				return err
			}
			st, err := s.load()
			if err != nil {
				return err
			}
			step, err := st.Next(ctx, s.l)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if step.Waiting() {
				fmt.Fprintf(w, "status: %s\n", step.Status(len(st.Good)))
				return nil
			}
			skipped := map[oid.Checksum]bool{}
			for _, c := range st.Skip {
				skipped[c] = true
			}
			rng := step.Range
			for i := len(rng.Commits) - 1; i >= 0; i-- {
				c := rng.Commits[i]
				mark := "?"
				switch {
				case c == st.Bad:
					mark = st.Terms.New
				case skipped[c]:
					mark = "skip"
				}
				cur := " "
				if c == st.Current {
					cur = ">"
				}
				fmt.Fprintf(w, "%s %-6s %s\n", cur, mark, describe(c, rng.Commit(c)))
			}
			fmt.Fprintf(w, "  %-6s %s\n", st.Terms.Old, describe(rng.Good, rng.Commit(rng.Good)))
			return nil
		},
	}
}
