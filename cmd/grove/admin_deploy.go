package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/admin"
	"github.com/groveos/grove/core/sysroot/etcmerge"
)

func init() { registerAdmin(newAdminDeployCmd) }

type deployOpts struct {
	originFile                   string
	kargs                        admin.KargOptions
	retain, retainPending        bool
	retainRollback, notAsDefault bool
	noPrune, noMerge, dryRun     bool
}

func newAdminDeployCmd() *cobra.Command {
	var o deployOpts
	cmd := &cobra.Command{
		Use:   "deploy [OPTION…] REFSPEC",
		Short: "Checkout revision REFSPEC as the new default deployment",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return errors.New("REF/REV must be specified")
			}
			return runDeploy(cmd, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.originFile, "origin-file", "", "Specify origin file")
	f.BoolVar(&o.noPrune, "no-prune", false, "Don't prune the repo when done")
	f.BoolVar(&o.noMerge, "no-merge", false, "Do not apply configuration (/etc and kernel arguments) from booted deployment")
	f.BoolVar(&o.retain, "retain", false, "Do not delete previous deployments")
	f.BoolVar(&o.retainPending, "retain-pending", false, "Do not delete pending deployments")
	f.BoolVar(&o.retainRollback, "retain-rollback", false, "Do not delete rollback deployments")
	f.BoolVar(&o.notAsDefault, "not-as-default", false, "Append rather than prepend new deployment")
	f.BoolVar(&o.kargs.ProcCmdline, "karg-proc-cmdline", false, "Import current /proc/cmdline")
	f.StringArrayVar(&o.kargs.Replace, "karg", nil, "Set kernel argument, like root=/dev/sda1; this overrides any earlier argument with the same name")
	f.StringArrayVar(&o.kargs.Append, "karg-append", nil, "Append kernel argument; useful with e.g. console= that can be used multiple times")
	f.BoolVar(&o.kargs.None, "karg-none", false, "Do not import kernel arguments")
	f.StringVar(&o.kargs.Delete, "karg-delete", "", "Delete kernel argument if exists")
	f.BoolVar(&o.dryRun, "dry-run", false, "Show what would be deployed and the /etc merge preview; change nothing")
	return cmd
}

func runDeploy(cmd *cobra.Command, refspec string, o *deployOpts) error {
	ctx := cmd.Context()
	if o.kargs.ProcCmdline && o.kargs.None {
		return errors.New("Can't specify both --karg-proc-cmdline and --karg-none")
	}
	if o.kargs.None && o.kargs.Delete != "" {
		return errors.New("Can't specify both --karg-none and --karg-delete")
	}
	if o.noMerge && o.kargs.Delete != "" {
		return errors.New("Can't specify both --no-merge and --karg-delete")
	}
	s, err := openSysroot(ctx, cmd, !o.dryRun)
	if err != nil {
		return err
	}
	defer s.Unlock()
	if err := requireBootedOrOS(s); err != nil {
		return fmt.Errorf("Looking for booted deployment: %w", err)
	}
	origin := sysroot.NewOrigin(refspec)
	if o.originFile != "" {
		data, err := os.ReadFile(o.originFile)
		if err != nil {
			return err
		}
		if origin, err = sysroot.ParseOrigin(data); err != nil {
			return fmt.Errorf("%s: %w", o.originFile, err)
		}
	}
	sum, err := s.Repo().ResolveRev(ctx, refspec)
	if err != nil {
		return err
	}
	var merge *sysroot.Deployment
	if !o.noMerge {
		merge = s.MergeDeployment(ag.os)
	}
	flags := sysroot.WriteFlags{NoClean: true, Retain: o.retain, NotDefault: o.notAsDefault}
	if !o.retain {
		flags.RetainPending, flags.RetainRollback = o.retainPending, o.retainRollback
	}
	kargs, err := admin.DeployKargs(s, merge, o.kargs)
	if err != nil {
		return err
	}
	dopts := admin.DeployOptions{Stateroot: ag.os, Commit: sum, Origin: origin, Merge: merge, Kargs: kargs}
	if o.dryRun {
		p, err := admin.PlanDeploy(ctx, s, dopts, flags)
		if err != nil {
			return err
		}
		printPlan(cmd.OutOrStdout(), p)
		return nil
	}
	if _, err := s.Cleanup(ctx, sysroot.CleanupOptions{}); err != nil {
		return fmt.Errorf("Performing initial cleanup: %w", err)
	}
	d, err := admin.Deploy(ctx, s, dopts)
	if err != nil {
		return err
	}
	if err := s.SimpleWriteDeployment(ctx, ag.os, d, merge, flags); err != nil {
		return err
	}
	_, err = s.Cleanup(ctx, sysroot.CleanupOptions{Prune: !o.noPrune})
	return err
}

// printPlan shows a deploy plan: the new deployment, the list after it,
// and the /etc merge preview with a diff of every change.
func printPlan(w io.Writer, p *admin.Plan) {
	fmt.Fprintf(w, "Would deploy %s %s", p.New.Stateroot, p.New.Name())
	if p.Version != "" {
		fmt.Fprintf(w, " (version %s)", p.Version)
	}
	fmt.Fprintln(w)
	if spec := p.New.Refspec(); spec != "" {
		fmt.Fprintf(w, "    origin refspec: %s\n", spec)
	}
	if p.Merge != nil {
		fmt.Fprintf(w, "Configuration merged from %s %s\n", p.Merge.Stateroot, p.Merge.Name())
	} else {
		fmt.Fprintln(w, "No configuration merge (the new /etc is the new default)")
	}
	fmt.Fprintln(w, "Deployments after:")
	for i, d := range p.After {
		mark := ""
		if d == p.New {
			mark = " (new)"
		}
		fmt.Fprintf(w, "  %d %s %s%s\n", i, d.Stateroot, d.Name(), mark)
	}
	for _, d := range p.Dropped {
		fmt.Fprintf(w, "Would remove %s %s\n", d.Stateroot, d.Name())
	}
	if p.Etc != nil {
		printPreview(w, p.Etc)
	}
}

// printPreview lists an /etc merge preview by category, with diffs.
func printPreview(w io.Writer, pv *etcmerge.Preview) {
	fmt.Fprintf(w, "/etc merge: %d kept, %d added, %d removed, %d updated, %d conflicts\n",
		len(pv.Kept), len(pv.Added), len(pv.Removed), len(pv.Updated), len(pv.Conflicts))
	section := func(title string, items []etcmerge.Item, local, upstream bool) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintln(w, title)
		for _, it := range items {
			name := it.Path
			if it.Dir {
				name += "/"
			}
			fmt.Fprintf(w, "  %s%s /etc/%s\n", it.Local, it.Upstream, name)
			if local && it.LocalDiff != "" {
				writeIndented(w, "local change:", it.LocalDiff)
			}
			if upstream && it.UpstreamDiff != "" {
				writeIndented(w, "upstream change:", it.UpstreamDiff)
			}
		}
	}
	section("Kept (local changes carried over):", pv.Kept, true, false)
	section("Conflicts (changed locally and upstream; the local version wins):", pv.Conflicts, true, true)
	section("Added by the new defaults:", pv.Added, false, true)
	section("Removed by the new defaults:", pv.Removed, false, true)
	section("Updated to the new defaults (not edited locally):", pv.Updated, false, true)
	for _, p := range pv.Problems {
		fmt.Fprintf(w, "error: the merge will fail: %s\n", p)
	}
}

func writeIndented(w io.Writer, title, text string) {
	fmt.Fprintf(w, "    %s\n", title)
	for _, l := range splitLines(text) {
		fmt.Fprintf(w, "      %s\n", l)
	}
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}
