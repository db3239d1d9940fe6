package theme

import (
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Theme is shared by pointer between the root and every screen, so a
// background-colour change (SetDark) restyles everything at once.
type Theme struct {
	Dark  bool
	plain bool

	Header   lipgloss.Style // top bar
	Footer   lipgloss.Style // help line
	Title    lipgloss.Style // screen title in the header
	Column   lipgloss.Style // table column headings
	Selected lipgloss.Style // cursor row
	Marked   lipgloss.Style // rows marked for diffing
	Dim      lipgloss.Style // secondary text (dates, checksums)
	Accent   lipgloss.Style // versions, ref names
	Label    lipgloss.Style // "Parent:" in detail panes
	Error    lipgloss.Style // error banner
	Border   lipgloss.Style // pane separators
	Added    lipgloss.Style // diff +
	Removed  lipgloss.Style // diff -
	Modified lipgloss.Style // diff ~
	Key      lipgloss.Style // key names in help
	Desc     lipgloss.Style // key descriptions in help
	OK       lipgloss.Style // success in the command log
}

// New returns the coloured theme for a dark or light background.
func New(dark bool) *Theme {
	t := &Theme{}
	t.SetDark(dark)
	return t
}

// Plain returns a theme with no colours nor attributes: View output holds no
// escape sequence at all (golden tests, NO_COLOR).
func Plain() *Theme {
	t := &Theme{plain: true}
	t.SetDark(true)
	return t
}

// IsPlain reports that the theme draws no colours (selection must then be
// shown by a marker, which every screen draws anyway).
func (t *Theme) IsPlain() bool { return t.plain }

// SetDark restyles for a dark (true) or light background.
func (t *Theme) SetDark(dark bool) {
	t.Dark = dark
	s := lipgloss.NewStyle
	if t.plain {
		for _, p := range []*lipgloss.Style{&t.Header, &t.Footer, &t.Title, &t.Column, &t.Selected, &t.Marked,
			&t.Dim, &t.Accent, &t.Label, &t.Error, &t.Border, &t.Added, &t.Removed, &t.Modified, &t.Key, &t.Desc, &t.OK} {
			*p = s()
		}
		return
	}
	ld := lipgloss.LightDark(dark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }
	fg := c("#1f2328", "#e6edf3")
	dim := c("#6e7781", "#8b949e")
	green := c("#1a7f37", "#3fb950")
	red := c("#cf222e", "#f85149")
	yellow := c("#9a6700", "#d29922")
	blue := c("#0969da", "#58a6ff")
	selBg := c("#ddf4ff", "#1f3a5f")
	barBg := c("#eaeef2", "#21262d")

	t.Header = s().Background(barBg).Foreground(fg)
	t.Footer = s().Foreground(dim)
	t.Title = s().Bold(true).Foreground(green)
	t.Column = s().Bold(true).Foreground(dim)
	t.Selected = s().Background(selBg).Foreground(fg).Bold(true)
	t.Marked = s().Foreground(yellow)
	t.Dim = s().Foreground(dim)
	t.Accent = s().Foreground(blue)
	t.Label = s().Bold(true).Foreground(fg)
	t.Error = s().Background(red).Foreground(lipgloss.Color("#ffffff")).Bold(true)
	t.Border = s().Foreground(dim)
	t.Added = s().Foreground(green)
	t.Removed = s().Foreground(red)
	t.Modified = s().Foreground(yellow)
	t.Key = s().Foreground(blue).Bold(true)
	t.Desc = s().Foreground(dim)
	t.OK = s().Foreground(green)
}

// Fit cuts or pads s to exactly width columns and height lines, so screens
// can be stacked without measuring. It keeps escape sequences intact.
func Fit(s string, width, height int) string {
	if width <= 0 || height <= 0 {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = FitLine(l, width)
	}
	return strings.Join(lines, "\n")
}

// FitLine cuts (with "…") or pads one line to exactly width columns.
func FitLine(l string, width int) string {
	if width <= 0 {
		return ""
	}
	w := ansi.StringWidth(l)
	if w > width {
		l = ansi.Truncate(l, width, "…")
		w = ansi.StringWidth(l)
	}
	if w < width {
		l += strings.Repeat(" ", width-w)
	}
	return l
}

// MiddleEllipsis shortens plain text s to at most width columns by
// replacing its middle with "…" (a path keeps its start and its end).
func MiddleEllipsis(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	if width <= 1 {
		return strings.Repeat("…", max(width, 0))
	}
	r := []rune(s)
	tail := (width - 1) / 2
	head := width - 1 - tail
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}
