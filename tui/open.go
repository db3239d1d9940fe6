package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/groveos/grove/theme"
	"github.com/groveos/grove/views"
)

// An opener builds the screen for a navigation message (views.Open*Msg), or
// reports false when the message is not its kind. Each screen registers
// one from an init function in its own tui/open_<screen>.go file.
type opener func(s *Services, th *theme.Theme, msg tea.Msg) (views.Screen, bool)

var openers []opener

func registerOpener(o opener) { openers = append(openers, o) }

// open asks every registered opener for a screen for msg.
func open(s *Services, th *theme.Theme, msg tea.Msg) (views.Screen, bool) {
	for _, o := range openers {
		if sc, ok := o(s, th, msg); ok {
			return sc, true
		}
	}
	return nil, false
}
