package views

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"github.com/groveos/grove/core/oid"
)

// Navigation intents. A screen returns them from a tea.Cmd (for example
// `return s, func() tea.Msg { return views.OpenLogMsg{Ref: r} }`) and the root
// model turns them into a new screen pushed on its stack.

// OpenLogMsg opens the history of Ref (may be "remote:ref"), or, when Ref is
// empty, of Commit.
type OpenLogMsg struct {
	Ref    string
	Commit oid.Checksum
}

// OpenTreeMsg opens a commit's tree, positioned at Path ("/" or "" for the root).
type OpenTreeMsg struct {
	Commit oid.Checksum
	Path   string
}

// OpenFileMsg opens one file of a commit in the viewer. Path is absolute
// inside the commit ("/usr/bin/sh").
type OpenFileMsg struct {
	Commit oid.Checksum
	Path   string
}

// OpenDiffMsg opens the differences between two commits (From → To).
type OpenDiffMsg struct {
	From, To oid.Checksum
}

// OpenScreenMsg pushes an already-built screen (action forms and other
// screens that need no service from the root).
type OpenScreenMsg struct {
	Screen Screen
}

// BackMsg pops the current screen (the root ignores it on the last screen).
type BackMsg struct{}

// ErrorMsg shows Err in the error banner. It never quits the program; the
// banner goes away on esc or any key.
type ErrorMsg struct {
	Err error
}

// MarkMsg records a commit marked for diffing ("mark one commit, pick
// another"). The root keeps it and shows it in the header; screens read it
// back from their Update via MarkedMsg, which the root sends to a screen
// when it becomes active and whenever the mark changes.
type MarkMsg struct {
	Commit oid.Checksum
	Label  string // shown in the header, e.g. "base@1a2b3c4d"
}

// MarkedMsg tells the active screen which commit is marked (zero: none).
type MarkedMsg struct {
	Commit oid.Checksum
	Label  string
}

// RunActionMsg asks the root to run a long operation in the background.
// The root calls Run in a goroutine with a context cancelled when the program
// exits, turns progress calls into ProgressMsg (a footer progress bar), and on
// return appends a CommandLogMsg{Cmd, Err, Summary} to the command log, shows
// Err in the error banner, and refreshes every Refresher screen.
type RunActionMsg struct {
	// ID identifies the action in progress messages; the root makes one if empty.
	ID string
	// Title labels the progress bar ("Committing /src onto exampleos/x86_64/base").
	Title string
	// Cmd is the equivalent command line, shown in the command log
	// ("grove --repo=/r commit -b X --subject=...").
	Cmd string
	// Run does the work. progress may be called from any goroutine; total 0
	// means unknown (an indeterminate bar). The summary is shown in the log.
	Run func(ctx context.Context, progress func(done, total int64)) (summary string, err error)
	// Done, if non-nil, builds a message delivered to the active screen after
	// Run returns (e.g. to close a form or open the new commit's log).
	Done func(summary string, err error) tea.Msg
}

// CommandLogMsg appends an entry to the command-log pane (toggled with L):
// the command line, its outcome (Err nil: ok) and a one-line summary.
// The root stamps the time.
type CommandLogMsg struct {
	Cmd     string
	Err     error
	Summary string
}

// ProgressMsg updates the footer progress bar of operation ID. Total 0 shows
// an indeterminate bar; Finished removes it.
type ProgressMsg struct {
	ID          string
	Title       string
	Done, Total int64
	Finished    bool
}
