package tui

import (
	"github.com/groveos/grove/core/repo"
)

// Services adapts the engine (core/*) to the small source interfaces the
// views declare. Its methods run inside tea.Cmds, never in Update/View.
// Each screen's adapter lives in tui/services_<screen>.go.
type Services struct {
	Repo *repo.Repo
	// RepoPath is the path as the user gave it, for command-log lines.
	RepoPath string
}
