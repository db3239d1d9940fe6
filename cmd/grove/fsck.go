package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/groveos/grove/core/fsck"
	"github.com/groveos/grove/core/progress"
	"github.com/spf13/cobra"
)

func init() { register(newFsckCmd) }

func newFsckCmd() *cobra.Command {
	var opts fsck.Options
	var quiet, addTombstones, verifyBindings, verifyBackRefs bool
	cmd := &cobra.Command{
		Use:   "fsck [OPTION…]",
		Short: "Check the repository for consistency",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if addTombstones || verifyBindings || verifyBackRefs {
				return errors.New("--add-tombstones, --verify-bindings and --verify-back-refs are not supported yet")
			}
			r, err := openRepo(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			p := &fsckPrinter{w: out, quiet: quiet}
			opts.Progress = p.progress
			res, err := fsck.Run(cmd.Context(), r, opts)
			if err != nil {
				return err
			}
			return reportFsck(out, os.Stderr, res, quiet)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&addTombstones, "add-tombstones", false, "Add tombstones for missing commits")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only print error messages")
	fl.BoolVarP(&opts.All, "all", "a", false, "Don't stop on first error")
	fl.BoolVar(&opts.Delete, "delete", false, "Remove corrupted objects")
	fl.BoolVar(&verifyBindings, "verify-bindings", false, "Verify ref bindings")
	fl.BoolVar(&verifyBackRefs, "verify-back-refs", false, "Verify back-references (implies --verify-bindings)")
	return cmd
}

// fsckPrinter prints ostree's phase lines and, like libglnx on a non-tty,
// "fsck objects (i/n) p%" at most once a second plus the final 100%.
type fsckPrinter struct {
	w     io.Writer
	quiet bool
	last  time.Time
}

func (p *fsckPrinter) progress(ev progress.Event) {
	if p.quiet && ev.Phase != fsck.PhaseObject {
		return
	}
	switch ev.Phase {
	case fsck.PhaseRefs:
		fmt.Fprintln(p.w, "Validating refs...")
	case fsck.PhaseCollectionRefs:
		fmt.Fprintln(p.w, "Validating refs in collections...")
	case fsck.PhaseCommits:
		fmt.Fprintln(p.w, "Enumerating commits...")
	case fsck.PhaseObjects:
		fmt.Fprintf(p.w, "Verifying content integrity of %d commit objects...\n", ev.Total)
	case fsck.PhaseObject:
		pct := ev.Done * 100 / ev.Total
		if ev.Done == ev.Total {
			pct = 100
		} else if time.Since(p.last) < time.Second {
			return
		}
		p.last = time.Now()
		fmt.Fprintf(p.w, "fsck objects (%d/%d) %d%%\n", ev.Done, ev.Total, pct)
	}
}

func reportFsck(out, errw io.Writer, res *fsck.Result, quiet bool) error {
	for _, perr := range res.Problems {
		if res.Stopped && perr == res.Problems[len(res.Problems)-1] {
			var me *fsck.MissingError
			if errors.As(perr, &me) {
				fmt.Fprintf(errw, "Object missing: %s\n", me.Name)
			}
			return perr
		}
		fmt.Fprintln(errw, perr)
	}
	for _, c := range res.MarkedPartial {
		fmt.Fprintf(errw, "Marking commit as partial: %s\n", c)
	}
	if res.Partial > 0 {
		fmt.Fprintf(out, "%d partial commits not verified\n", res.Partial)
	}
	if len(res.Problems) > 0 {
		return errors.New("Repository corruption encountered")
	}
	if res.FsckPartial > 0 {
		return fmt.Errorf("%d partial commits from fsck-detected corruption", res.Partial)
	}
	fmt.Fprintf(out, "object fsck of %d commits completed successfully - no errors found.\n", res.Commits)
	return nil
}
