package tui

import (
	"context"
	"errors"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/theme"
	"github.com/groveos/grove/views"
)

// Options configure Run.
type Options struct {
	Repo     *repo.Repo
	RepoPath string    // as given by the user, for the header and command lines
	Input    io.Reader // nil: the terminal
	Output   io.Writer // nil: the terminal
}

// NewRoot builds the root model on the Refs screen.
func NewRoot(svc *Services, th *theme.Theme) *Model {
	return New(svc, th, views.NewRefs(svc, th))
}

// Run opens the TUI and blocks until the user quits or ctx ends.
func Run(ctx context.Context, opts Options) error {
	th := theme.New(true)
	if os.Getenv("NO_COLOR") != "" {
		th = theme.Plain()
	}
	svc := &Services{Repo: opts.Repo, RepoPath: opts.RepoPath}
	m := NewRoot(svc, th)
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	} else {
		// lipgloss detected stdout's colour profile when it was loaded;
		// detecting again costs another `tmux info` run (30-50 ms of the
		// first frame) inside tmux.
		popts = append(popts, tea.WithColorProfile(lipgloss.Writer.Profile))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	m.cancel()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	return err
}
