package views

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/groveos/grove/theme"
)

// NavKeys are the list movements every list screen shares.
type NavKeys struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Open, Filter, Back                      key.Binding
}

// DefaultNavKeys returns the conventional bindings (j/k/arrows/g/G/PgUp/PgDn,
// enter, /, esc).
func DefaultNavKeys() NavKeys {
	return NavKeys{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " "), key.WithHelp("pgdn", "page down")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

// ListNav is a cursor over n rows shown height at a time. Screens embed it
// and call Key / Mouse from Update.
type ListNav struct {
	Cursor, Offset, N, Height int
}

// Clamp keeps cursor and offset valid after N or Height change.
func (l *ListNav) Clamp() {
	if l.Cursor >= l.N {
		l.Cursor = l.N - 1
	}
	if l.Cursor < 0 {
		l.Cursor = 0
	}
	h := max(l.Height, 1)
	if l.Cursor < l.Offset {
		l.Offset = l.Cursor
	}
	if l.Cursor >= l.Offset+h {
		l.Offset = l.Cursor - h + 1
	}
	if l.Offset > max(l.N-h, 0) {
		l.Offset = max(l.N-h, 0)
	}
	if l.Offset < 0 {
		l.Offset = 0
	}
}

// Move moves the cursor by d rows.
func (l *ListNav) Move(d int) { l.Cursor += d; l.Clamp() }

// Key applies a movement key; it reports whether msg was one.
func (l *ListNav) Key(k NavKeys, msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, k.Up):
		l.Move(-1)
	case key.Matches(msg, k.Down):
		l.Move(1)
	case key.Matches(msg, k.Top):
		l.Cursor = 0
		l.Clamp()
	case key.Matches(msg, k.Bottom):
		l.Cursor = l.N - 1
		l.Clamp()
	case key.Matches(msg, k.PageUp):
		l.Move(-max(l.Height-1, 1))
	case key.Matches(msg, k.PageDown):
		l.Move(max(l.Height-1, 1))
	default:
		return false
	}
	return true
}

// Mouse handles a click on list row y (0 = first visible row) or a wheel
// turn; it reports whether the cursor moved because of a click.
func (l *ListNav) Mouse(msg tea.MouseMsg, y int) (clicked bool) {
	m := msg.Mouse()
	switch msg.(type) {
	case tea.MouseWheelMsg:
		switch m.Button {
		case tea.MouseWheelUp:
			l.Move(-3)
		case tea.MouseWheelDown:
			l.Move(3)
		}
	case tea.MouseClickMsg:
		if m.Button == tea.MouseLeft && y >= 0 && y < l.Height && l.Offset+y < l.N {
			l.Cursor = l.Offset + y
			l.Clamp()
			return true
		}
	}
	return false
}

// Filter is a one-line "type to filter" field (no cursor escapes, so
// goldens stay plain).
type Filter struct {
	Active bool   // typing
	Text   string // current filter (kept after enter)
}

// Key edits the filter while Active. It reports whether the key was used
// and whether the text changed.
func (f *Filter) Key(msg tea.KeyPressMsg) (used, changed bool) {
	if !f.Active {
		return false, false
	}
	switch msg.String() {
	case "enter":
		f.Active = false
		return true, false
	case "esc":
		f.Active, f.Text = false, ""
		return true, true
	case "backspace":
		if f.Text == "" {
			return true, false
		}
		r := []rune(f.Text)
		f.Text = string(r[:len(r)-1])
		return true, true
	case "ctrl+u":
		f.Text = ""
		return true, true
	}
	if msg.Text != "" {
		f.Text += msg.Text
		return true, true
	}
	return true, false
}

// Handle does a list screen's filter keys: typing while the filter is
// active, start (usually "/") opening it, and back (esc) clearing a
// non-empty filter before it can mean "go back". used reports that msg was
// consumed; refilter that the visible rows must be recomputed.
func (f *Filter) Handle(msg tea.KeyPressMsg, start, back key.Binding) (used, refilter bool) {
	if used, changed := f.Key(msg); used {
		return true, changed || !f.Active
	}
	switch {
	case key.Matches(msg, start):
		f.Active = true
		return true, true
	case key.Matches(msg, back) && f.Text != "":
		f.Text = ""
		return true, true
	}
	return false, false
}

// Match reports whether any of fields contains the filter (case-insensitive).
func (f *Filter) Match(fields ...string) bool {
	if f.Text == "" {
		return true
	}
	q := strings.ToLower(f.Text)
	for _, s := range fields {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

// View renders the filter line ("/text▏" while typing), or "" when unused.
func (f *Filter) View(th *theme.Theme) string {
	switch {
	case f.Active:
		return th.Accent.Render("/") + f.Text + "▏"
	case f.Text != "":
		return th.Dim.Render("filter: ") + f.Text + th.Dim.Render("  (esc clears)")
	}
	return ""
}

// Column is one table column: a heading and a width (0: takes the rest).
type Column struct {
	Title string
	Width int
}

// layoutColumns gives flexible (0-width) columns the space left in width,
// one space between columns, after a 2-column cursor marker.
func layoutColumns(cols []Column, width int) []int {
	ws := make([]int, len(cols))
	fixed, flex := 2, 0
	for i, c := range cols {
		ws[i] = c.Width
		fixed += c.Width
		if i > 0 {
			fixed++
		}
		if c.Width == 0 {
			flex++
		}
	}
	if flex > 0 {
		rest := max(width-fixed, 4*flex)
		for i, c := range cols {
			if c.Width == 0 {
				ws[i] = rest / flex
			}
		}
	}
	return ws
}

// tableRow renders cells into their widths, with the cursor marker.
func tableRow(cells []string, ws []int, selected bool) string {
	var b strings.Builder
	if selected {
		b.WriteString("▸ ")
	} else {
		b.WriteString("  ")
	}
	for i, c := range cells {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(theme.FitLine(c, ws[i]))
	}
	return b.String()
}
