package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/groveos/grove/theme"
	"github.com/groveos/grove/views"
)

func init() {
	registerOpener(func(s *Services, th *theme.Theme, msg tea.Msg) (views.Screen, bool) {
		m, ok := msg.(views.OpenDiffMsg)
		if !ok {
			return nil, false
		}
		return views.NewDiff(s, th, m.From, m.To), true
	})
}
