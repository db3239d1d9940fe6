package main

import (
	"context"
	"fmt"
	"io"

	"github.com/groveos/grove/core/bisect"
	"github.com/groveos/grove/core/culprit"
	"github.com/groveos/grove/core/dpkgdb"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/textual"
)

// describe is how bisect names a commit: "[checksum] version subject".
func describe(sum oid.Checksum, c *object.Commit) string {
	s := "[" + sum.String() + "]"
	if c == nil {
		return s
	}
	if v := c.Version(); v != "" {
		s += " " + v
	}
	if c.Subject != "" {
		s += " " + c.Subject
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// printStep says where the bisect stands, as git does after each mark.
func (s *bisectSession) printStep(ctx context.Context, w io.Writer, st *bisect.State, step *bisect.Step) error {
	switch {
	case step.Waiting():
		fmt.Fprintf(w, "status: %s\n", step.Status(len(st.Good)))
	case !step.FirstBad.IsZero():
		return s.printCulprit(ctx, w, st.Terms, step)
	case len(step.Possible) > 0:
		printPossible(w, st.Terms, step)
	default:
		fmt.Fprintf(w, "Bisecting: %d %s left to test after this (roughly %d %s)\n", step.Left, plural(step.Left, "commit", "commits"),
			step.Steps, plural(step.Steps, "step", "steps"))
		fmt.Fprintln(w, describe(step.Candidate, step.Range.Commit(step.Candidate)))
	}
	return nil
}

func printPossible(w io.Writer, t bisect.Terms, step *bisect.Step) {
	fmt.Fprintf(w, "There are only 'skip'ped commits left to test.\nThe first %s commit could be any of:\n", t.New)
	for _, c := range step.Possible {
		fmt.Fprintln(w, describe(c, step.Range.Commit(c)))
	}
	fmt.Fprintf(w, "Last %s commit: %s\nWe cannot bisect more!\n", t.Old, describe(step.LastGood(), step.Range.Commit(step.LastGood())))
}

// printCulprit is the end of a bisect: the first bad commit as ostree log
// shows it, the last good one, what changed between them and which
// packages moved.
func (s *bisectSession) printCulprit(ctx context.Context, w io.Writer, t bisect.Terms, step *bisect.Step) error {
	if err := s.ensureTrees(ctx, step.LastGood(), step.FirstBad); err != nil {
		return err
	}
	rep, err := culprit.Build(ctx, s.r, step.LastGood(), step.FirstBad)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s is the first %s commit\n", rep.FirstBad, t.New)
	fmt.Fprintf(w, "commit %s\n", rep.FirstBad)
	if err := dumpCommitFields(w, rep.Commit); err != nil {
		return err
	}
	fmt.Fprintf(w, "Last %s commit: %s\n\n", t.Old, describe(rep.LastGood, rep.Good))
	printCulpritFiles(w, t, rep)
	if rep.PackagesErr != nil {
		fmt.Fprintf(w, "\nPackage changes: cannot be read: %v\n", rep.PackagesErr)
	} else if rep.Packages != nil {
		fmt.Fprintf(w, "\nPackage changes (%s):\n", dpkgdb.StatusPath)
		if rep.Packages.Empty() {
			fmt.Fprintln(w, "  none")
		}
		printPkgDiff(w, rep.Packages)
	}
	return nil
}

func printCulpritFiles(w io.Writer, t bisect.Terms, rep *culprit.Report) {
	fmt.Fprintf(w, "Changes since the last %s commit: %d modified, %d removed, %d added\n", t.Old, rep.NModify, rep.NRemoved, rep.NAdded)
	size := func(n int64) string { return textual.FormatSize(uint64(n)) }
	for _, f := range rep.Files {
		p := f.Path
		if f.Dir {
			p += "/"
		}
		switch {
		case f.OldSize >= 0 && f.NewSize >= 0:
			fmt.Fprintf(w, "%c    %s (%s -> %s)\n", f.Kind, p, size(f.OldSize), size(f.NewSize))
		case f.OldSize >= 0:
			fmt.Fprintf(w, "%c    %s (%s)\n", f.Kind, p, size(f.OldSize))
		case f.NewSize >= 0:
			fmt.Fprintf(w, "%c    %s (%s)\n", f.Kind, p, size(f.NewSize))
		default:
			fmt.Fprintf(w, "%c    %s\n", f.Kind, p)
		}
	}
}

// printPkgDiff prints package changes as rpm-ostree db diff's block format.
func printPkgDiff(w io.Writer, d *dpkgdb.Diff) {
	for _, sec := range []struct {
		title string
		list  []dpkgdb.Change
	}{{"Upgraded", d.Upgraded}, {"Downgraded", d.Downgraded}, {"Removed", d.Removed}, {"Added", d.Added}} {
		if len(sec.list) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s:\n", sec.title)
		for _, c := range sec.list {
			switch {
			case c.Old != "" && c.New != "":
				fmt.Fprintf(w, "  %s %s -> %s\n", c.Label, c.Old, c.New)
			case c.Old != "":
				fmt.Fprintf(w, "  %s %s\n", c.Label, c.Old)
			default:
				fmt.Fprintf(w, "  %s %s\n", c.Label, c.New)
			}
		}
	}
}
