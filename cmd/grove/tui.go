package main

import (
	"context"
	"fmt"
	"os"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/demo"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/tui"
)

func init() { register(newTUICmd) }

func newTUICmd() *cobra.Command {
	var useDemo, keep bool
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "Browse the repository in a terminal UI",
		Long: "Open the terminal UI on --repo, $OSTREE_REPO or ./repo.\n" +
			"With --demo, build a demonstration repository in a temporary directory and open it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTUI(cmd.Context(), useDemo, keep)
		},
	}
	cmd.Flags().BoolVar(&useDemo, "demo", false, "build and open a demo repository in a temporary directory")
	cmd.Flags().BoolVar(&keep, "keep", false, "with --demo, keep the demo repository and print its path on exit")
	return cmd
}

// rootRun opens the TUI when grove runs with no verb in a terminal.
func rootRun(cmd *cobra.Command, _ []string) error {
	if term.IsTerminal(os.Stdin.Fd()) && term.IsTerminal(os.Stdout.Fd()) {
		return runTUI(cmd.Context(), false, false)
	}
	return cmd.Help()
}

func runTUI(ctx context.Context, useDemo, keep bool) error {
	path := g.repo
	if useDemo {
		dir, err := os.MkdirTemp("", "grove-demo-")
		if err != nil {
			return err
		}
		if keep {
			defer fmt.Fprintln(os.Stderr, "demo repository kept at", dir+"/repo")
		} else {
			defer os.RemoveAll(dir)
		}
		fmt.Fprintln(os.Stderr, "building demo repository…")
		if path, err = demo.Build(ctx, dir, nil); err != nil {
			return err
		}
	}
	if path == "" {
		path = os.Getenv("OSTREE_REPO")
	}
	if path == "" {
		path = "repo"
	}
	r, err := repo.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("cannot open repository %s: %w (use --repo=PATH, $OSTREE_REPO, or grove tui --demo)", path, err)
	}
	return tui.Run(ctx, tui.Options{Repo: r, RepoPath: path})
}
