package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/groveos/grove/theme"
	"github.com/groveos/grove/views"
)

func init() {
	registerOpener(func(s *Services, th *theme.Theme, msg tea.Msg) (views.Screen, bool) {
		m, ok := msg.(views.OpenFileMsg)
		if !ok {
			return nil, false
		}
		return views.NewFile(s, th, m.Commit, m.Path), true
	})
}
