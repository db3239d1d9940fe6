package views

import (
	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// Screen is one full-width page of the TUI (Refs, Log, Tree, File, Diff,
// an action form). The root model in tui/ keeps a stack of Screens, sends the
// top one every message it does not handle itself, and draws it between its
// own header and footer.
//
// Rules every Screen follows:
//   - no I/O in Init, Update or View: data comes through the small source
//     interface the screen declares and receives in its constructor, called
//     only from a tea.Cmd that returns the screen's own result message;
//   - navigation and errors are messages (see msg.go), never direct calls
//     into the root;
//   - View renders exactly the size last given to SetSize (pad or cut), so
//     the root can stack header, screen and footer without measuring.
type Screen interface {
	// Init starts the screen's first loads (return nil if none). The root
	// calls it once, when the screen is pushed.
	Init() tea.Cmd
	// Update handles a message and returns the (possibly new) screen.
	// Mouse messages arrive with Y relative to the screen's first line.
	Update(tea.Msg) (Screen, tea.Cmd)
	// View renders the screen at its current size, without header/footer.
	View() string
	// SetSize gives the area the screen owns; called before the first View
	// and on every resize or when the root's panes change.
	SetSize(width, height int)
	// Title is the short name shown in the header breadcrumb ("Log exampleos/x86_64/base").
	Title() string
	// KeyMap lists the screen's own keys; the root appends its global keys
	// (q, ?, esc, tab, L) to the short and full help it draws.
	KeyMap() help.KeyMap
	// Capturing reports that a text field has focus: the root then passes
	// q, ?, L and other printable keys to the screen instead of acting on
	// them (ctrl+c still quits).
	Capturing() bool
}

// Refresher is optionally implemented by screens that show repository state
// which actions can change (refs, history). After an action finishes the root
// calls Refresh on every screen in its stack and runs the returned commands.
type Refresher interface {
	Refresh() tea.Cmd
}
