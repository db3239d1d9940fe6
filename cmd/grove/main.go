package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// globals holds ostree's global options, shared by every verb.
type globals struct {
	repo    string
	verbose bool
}

var g globals

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "grove",
		Short:         "git for operating system binaries (OSTree-compatible)",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.repo, "repo", "", "path to the OSTree repository (default: $OSTREE_REPO)")
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "print debug information")
	root.SetVersionTemplate("grove {{.Version}}\n")
	root.RunE = rootRun // no verb in a terminal: the TUI (tui.go)
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands is filled by each verb's file in its init function, so that
// adding a verb touches only its own file.
var subcommands []func() *cobra.Command

func register(f func() *cobra.Command) { subcommands = append(subcommands, f) }

// repoPath resolves --repo, then $OSTREE_REPO, like ostree does.
func repoPath() (string, error) {
	if g.repo != "" {
		return g.repo, nil
	}
	if p := os.Getenv("OSTREE_REPO"); p != "" {
		return p, nil
	}
	return "", errors.New("command requires a --repo argument")
}

func main() {
	defer profile()()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		stopProfile()
		os.Exit(1)
	}
}

// stopProfile ends the CPU profile; a no-op unless GROVE_CPUPROFILE is set.
var stopProfile = func() {}

// profile writes a CPU profile of the whole command to $GROVE_CPUPROFILE
// (hidden: for bench/ and for finding where a verb spends its time).
func profile() func() {
	p := os.Getenv("GROVE_CPUPROFILE")
	if p == "" {
		return stopProfile
	}
	f, err := os.Create(p)
	if err != nil {
		return stopProfile
	}
	if pprof.StartCPUProfile(f) != nil {
		f.Close()
		return stopProfile
	}
	stopProfile = func() { pprof.StopCPUProfile(); f.Close(); stopProfile = func() {} }
	return func() { stopProfile() }
}
