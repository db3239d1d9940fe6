package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/sysroot"
)

func init() { register(newAdminCmd) }

// adminGlobals are `ostree admin`'s options shared by every admin verb.
type adminGlobals struct {
	sysroot         string
	os              string
	printCurrentDir bool
}

var ag adminGlobals

// adminVerbs is filled by each admin verb's file.
var adminVerbs []func() *cobra.Command

func registerAdmin(f func() *cobra.Command) { adminVerbs = append(adminVerbs, f) }

func newAdminCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin COMMAND",
		Short: "Commands for managing a host system booted with OSTree",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if ag.printCurrentDir {
				return nil // done in PersistentPreRunE
			}
			cmd.Usage()
			if len(args) == 0 {
				return errors.New(`No "admin" subcommand specified`)
			}
			return fmt.Errorf(`Unknown "admin" subcommand '%s'`, args[0])
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&ag.sysroot, "sysroot", "", "Operate on the OSTree sysroot at PATH (default: $OSTREE_SYSROOT or /)")
	pf.StringVar(&ag.os, "os", "", "Use a different operating system root than the current one")
	pf.BoolVar(&ag.printCurrentDir, "print-current-dir", false, "Print the first deployment's directory and exit")
	pf.MarkHidden("print-current-dir")
	// ostree admin --print-current-dir prints the first deployment's
	// directory and exits, whatever verb follows.
	cmd.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if !ag.printCurrentDir {
			return nil
		}
		s, err := openSysroot(cmd.Context(), cmd, false)
		if err != nil {
			return err
		}
		ds := s.Deployments()
		if len(ds) == 0 {
			return errors.New("Unable to find a deployment in sysroot")
		}
		fmt.Fprintln(cmd.OutOrStdout(), s.Abs(ds[0].Dir()))
		os.Exit(0)
		return nil
	}
	for _, add := range adminVerbs {
		cmd.AddCommand(add())
	}
	return cmd
}

// sysrootPath is --sysroot, else $OSTREE_SYSROOT, else "/".
func sysrootPath() string {
	if ag.sysroot != "" {
		return ag.sysroot
	}
	if p := os.Getenv("OSTREE_SYSROOT"); p != "" {
		return p
	}
	return "/"
}

// sysrootEnv reads the host paths; GROVE_ADMIN_ROOT, GROVE_ADMIN_RUN and
// GROVE_ADMIN_PROC_CMDLINE replace /, /run and /proc/cmdline (for tests
// that play a booted machine in a temporary directory).
func sysrootEnv() sysroot.Env {
	return sysroot.Env{
		Root:        os.Getenv("GROVE_ADMIN_ROOT"),
		Run:         os.Getenv("GROVE_ADMIN_RUN"),
		ProcCmdline: os.Getenv("GROVE_ADMIN_PROC_CMDLINE"),
	}
}

// openSysroot opens and loads the sysroot; with lock it first takes the
// sysroot lock (release it with Unlock), printing "Waiting for sysroot
// lock..." while another process (grove or ostree) holds it. Journal lines go to stdout and
// notes to stderr, as `ostree admin` prints them.
func openSysroot(ctx context.Context, cmd *cobra.Command, lock bool) (*sysroot.Sysroot, error) {
	out := cmd.OutOrStdout()
	opts := sysroot.Options{
		Env:       sysrootEnv(),
		Debug:     sysroot.ParseDebug(os.Getenv("OSTREE_SYSROOT_DEBUG")),
		OnMessage: func(m string) { fmt.Fprintln(out, m) },
		OnWarning: func(m string) { fmt.Fprintln(cmd.ErrOrStderr(), m) },
	}
	if lock {
		opts.Lock = true
		opts.OnLockWait = func() { fmt.Fprintln(out, "Waiting for sysroot lock...") }
	}
	return sysroot.Open(ctx, sysrootPath(), opts)
}

// requireBootedOrOS is ot_admin_require_booted_deployment_or_osname.
func requireBootedOrOS(s *sysroot.Sysroot) error {
	if s.Booted() == nil && ag.os == "" {
		return fmt.Errorf("Not currently booted into an OSTree system and no --os= argument given")
	}
	return nil
}
