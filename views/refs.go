package views

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/groveos/grove/theme"
)

// RefSource lists a repository's refs with their commits loaded.
type RefSource interface {
	Refs(ctx context.Context) ([]RefInfo, error)
}

// RefsKeys is the Refs screen's key map.
type RefsKeys struct {
	NavKeys
	Refresh key.Binding
}

// ShortHelp implements help.KeyMap.
func (k RefsKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Filter, k.Up, k.Down}
}

// FullHelp implements help.KeyMap.
func (k RefsKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Open, k.Filter, k.Back, k.Refresh},
	}
}

// refsLoadedMsg carries the result of RefSource.Refs.
type refsLoadedMsg struct {
	refs []RefInfo
	err  error
}

// Refs lists every ref: heads, remotes, mirrors, aliases.
type Refs struct {
	src     RefSource
	th      *theme.Theme
	keys    RefsKeys
	w, h    int
	all     []RefInfo
	shown   []int // indexes into all after filtering
	nav     ListNav
	filter  Filter
	loading bool
	loaded  bool
}

// NewRefs returns the Refs screen; Init starts loading.
func NewRefs(src RefSource, th *theme.Theme) *Refs {
	k := RefsKeys{NavKeys: DefaultNavKeys(),
		Refresh: key.NewBinding(key.WithKeys("r", "ctrl+r"), key.WithHelp("r", "reload"))}
	k.Open.SetHelp("enter", "log")
	return &Refs{src: src, th: th, keys: k}
}

func (s *Refs) load() tea.Cmd {
	s.loading = true
	src := s.src
	return func() tea.Msg {
		refs, err := src.Refs(context.Background())
		return refsLoadedMsg{refs, err}
	}
}

// Init implements Screen.
func (s *Refs) Init() tea.Cmd { return s.load() }

// Refresh implements Refresher: actions may have moved refs.
func (s *Refs) Refresh() tea.Cmd { return s.load() }

// Title implements Screen.
func (s *Refs) Title() string { return "Refs" }

// KeyMap implements Screen.
func (s *Refs) KeyMap() help.KeyMap { return s.keys }

// Capturing implements Screen.
func (s *Refs) Capturing() bool { return s.filter.Active }

// ActionContext implements ActionContexter: the selected ref and its commit.
func (s *Refs) ActionContext() ActionContext {
	r, ok := s.Selected()
	if !ok {
		return ActionContext{}
	}
	return ActionContext{Ref: r.Name, Commit: r.Checksum}
}

// SetSize implements Screen.
func (s *Refs) SetSize(w, h int) {
	s.w, s.h = w, h
	s.nav.Height = s.listHeight()
	s.nav.Clamp()
}

// listHeight is the rows left for refs: minus the column heading and
// the filter line when shown.
func (s *Refs) listHeight() int {
	return max(s.h-1-s.filterLines(), 1)
}

func (s *Refs) filterLines() int {
	if s.filter.Active || s.filter.Text != "" {
		return 1
	}
	return 0
}

// Selected returns the ref under the cursor.
func (s *Refs) Selected() (RefInfo, bool) {
	if s.nav.Cursor < 0 || s.nav.Cursor >= len(s.shown) {
		return RefInfo{}, false
	}
	return s.all[s.shown[s.nav.Cursor]], true
}

func (s *Refs) applyFilter() {
	var keep string
	if r, ok := s.Selected(); ok {
		keep = r.Name
	}
	s.shown = s.shown[:0]
	for i, r := range s.all {
		if s.filter.Match(r.Name, r.AliasOf, r.Kind.String(), versionOf(r), subjectOf(r), r.Checksum.String()) {
			s.shown = append(s.shown, i)
		}
	}
	s.nav.N = len(s.shown)
	s.nav.Height = s.listHeight()
	s.nav.Cursor = 0
	for i, idx := range s.shown {
		if s.all[idx].Name == keep {
			s.nav.Cursor = i
		}
	}
	s.nav.Clamp()
}

func versionOf(r RefInfo) string {
	if r.Commit == nil {
		return ""
	}
	return r.Commit.Version()
}

func subjectOf(r RefInfo) string {
	if r.Commit == nil {
		return ""
	}
	return r.Commit.Subject
}

// Update implements Screen.
func (s *Refs) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case refsLoadedMsg:
		s.loading = false
		if msg.err != nil {
			return s, errCmd(fmt.Errorf("listing refs: %w", msg.err))
		}
		s.all, s.loaded = msg.refs, true
		s.applyFilter()
	case tea.KeyPressMsg:
		if used, refilter := s.filter.Handle(msg, s.keys.Filter, s.keys.Back); used {
			if refilter {
				s.applyFilter()
			}
			return s, nil
		}
		switch {
		case s.nav.Key(s.keys.NavKeys, msg):
		case key.Matches(msg, s.keys.Back):
			return s, backCmd
		case key.Matches(msg, s.keys.Open):
			if r, ok := s.Selected(); ok {
				return s, func() tea.Msg { return OpenLogMsg{Ref: r.Name, Commit: r.Checksum} }
			}
		case key.Matches(msg, s.keys.Refresh):
			return s, s.load()
		}
	case tea.MouseMsg:
		before := s.nav.Cursor
		if s.nav.Mouse(msg, msg.Mouse().Y-1-s.filterLines()) && before == s.nav.Cursor {
			// a click on the selected row opens it
			if r, ok := s.Selected(); ok {
				return s, func() tea.Msg { return OpenLogMsg{Ref: r.Name, Commit: r.Checksum} }
			}
		}
	}
	return s, nil
}

func errCmd(err error) tea.Cmd { return func() tea.Msg { return ErrorMsg{Err: err} } }

func backCmd() tea.Msg { return BackMsg{} }

// refsLayout chooses the Refs table's columns for width w so SUBJECT keeps
// some room: the date shrinks to a day and then goes, then REF and VERSION
// shrink. It returns the columns shown (indexes into refColumns) and widths.
func refsLayout(w, longestRef, longestVersion int) (show []int, ws []int) {
	ref := min(max(longestRef, 12), max(w*2/5, 12))
	ver := min(max(longestVersion, 7), 14)
	date := 16
	minSubject := max(16, w/5)
	used := func() int {
		n := 2 + ref + 1 + 6 + 1 + 10 + 1 + ver + 1
		if date > 0 {
			n += date + 1
		}
		return n
	}
	for _, step := range []func() bool{
		func() bool { date = 10; return true },
		func() bool { date = 0; return true },
		func() bool { ref = max(ref-(used()+minSubject-w), 16); return true },
		func() bool { ver = 7; return true },
	} {
		if w-used() >= minSubject {
			break
		}
		step()
	}
	show = []int{0, 1, 2, 3}
	ws = []int{ref, 6, 10, ver}
	if date > 0 {
		show = append(show, 4)
		ws = append(ws, date)
	}
	show = append(show, 5)
	ws = append(ws, max(w-used(), 4))
	return show, ws
}

var refColumns = []Column{{"REF", 0}, {"KIND", 6}, {"COMMIT", 10}, {"VERSION", 14}, {"DATE", 16}, {"SUBJECT", 0}}

// View implements Screen.
func (s *Refs) View() string {
	if s.w <= 0 || s.h <= 0 {
		return ""
	}
	longest, longestVer := 0, 0
	for _, r := range s.all {
		n := len([]rune(r.Name))
		if r.AliasOf != "" {
			n += 3 + len([]rune(r.AliasOf))
		}
		longest = max(longest, n)
		longestVer = max(longestVer, len([]rune(versionOf(r))))
	}
	show, ws := refsLayout(s.w, longest, longestVer)
	dateW := 0
	for i, c := range show {
		if c == 4 {
			dateW = ws[i]
		}
	}
	pick := func(cells []string) []string {
		out := make([]string, len(show))
		for i, c := range show {
			out[i] = cells[c]
		}
		return out
	}
	titles := make([]string, len(refColumns))
	for i, c := range refColumns {
		titles[i] = c.Title
	}
	titles = pick(titles)
	lines := []string{s.th.Column.Render(theme.FitLine(tableRow(titles, ws, false), s.w))}
	if f := s.filter.View(s.th); f != "" {
		lines = append(lines, f)
	}
	switch {
	case !s.loaded && s.loading:
		lines = append(lines, "  loading refs…")
	case s.loaded && len(s.all) == 0:
		lines = append(lines, "  no refs in this repository")
	case s.loaded && len(s.shown) == 0:
		lines = append(lines, "  no ref matches "+fmt.Sprintf("%q", s.filter.Text))
	}
	end := min(s.nav.Offset+s.nav.Height, len(s.shown))
	for i := s.nav.Offset; i < end; i++ {
		r := s.all[s.shown[i]]
		sel := i == s.nav.Cursor
		name := r.Name
		if r.AliasOf != "" {
			name += " → " + r.AliasOf
		}
		date, short := "", ""
		if r.Commit != nil {
			date = r.Commit.Time().Format("2006-01-02 15:04")[:max(dateW, 0)]
		}
		if !r.Checksum.IsZero() {
			short = r.Checksum.String()[:10]
		}
		cells := pick([]string{name, r.Kind.String(), short, versionOf(r), date, subjectOf(r)})
		if sel {
			lines = append(lines, s.th.Selected.Render(theme.FitLine(tableRow(cells, ws, true), s.w)))
			continue
		}
		for i, c := range show {
			switch c {
			case 0:
				cells[i] = s.th.Accent.Render(theme.FitLine(cells[i], ws[i]))
			case 1, 2, 4:
				cells[i] = s.th.Dim.Render(theme.FitLine(cells[i], ws[i]))
			}
		}
		lines = append(lines, tableRow(cells, ws, false))
	}
	return theme.Fit(strings.Join(lines, "\n"), s.w, s.h)
}
