package views

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/theme"
)

// DiffEntry is one changed path between two commits.
type DiffEntry struct {
	Kind     byte // 'A', 'M' or 'D'
	Path     string
	Old, New oid.Checksum
	Dir      bool // a directory (on the side that has it)
}

// FileDiffData is both sides of a changed file (nil for an absent side).
type FileDiffData struct {
	Old, New []byte
	// TooLarge is set when a side exceeds what is diffed in memory.
	TooLarge         bool
	OldSize, NewSize int64
}

// DiffSource compares commits and reads the sides of a changed file.
type DiffSource interface {
	DiffCommits(ctx context.Context, from, to oid.Checksum) ([]DiffEntry, error)
	DiffFile(ctx context.Context, from, to oid.Checksum, path string) (FileDiffData, error)
}

// DiffContext is the number of unchanged lines around each change.
const DiffContext = 3

// SideBySideWidth is the width from which content diffs are side by side.
const SideBySideWidth = 140

// DiffKeys is the Diff screen's key map.
type DiffKeys struct {
	NavKeys
}

// ShortHelp implements help.KeyMap.
func (k DiffKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Filter, k.Up, k.Down, k.Back}
}

// FullHelp implements help.KeyMap.
func (k DiffKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown}, {k.Open, k.Filter, k.Back}}
}

// diffContentKeys is the key map while a file's content diff is shown:
// scrolling and back to the list only.
type diffContentKeys struct{ NavKeys }

func (k diffContentKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageDown, k.Bottom, k.Back}
}

func (k diffContentKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown}, {k.Back}}
}

// Messages of the Diff screen (exported for tests).
type (
	DiffListMsg struct {
		Entries []DiffEntry
		Err     error
	}
	DiffContentMsg struct {
		Path   string
		Lines  []DiffLine
		Binary bool
		Note   string // e.g. too large
		Err    error
	}
)

// DiffLine is one line of a content diff: Op ' ', '-' or '+', with its
// line numbers on each side (0 where absent).
type DiffLine struct {
	Op       byte
	Old, New int
	Text     string
	// lines of each side before this one (hunk headers need them)
	oPos, nPos int
}

// Diff shows what changed from one commit to another, and a changed file's
// content diff.
type Diff struct {
	src      DiffSource
	th       *theme.Theme
	keys     DiffKeys
	from, to oid.Checksum
	w, h     int
	entries  []DiffEntry
	shown    []int
	nav      ListNav
	filter   Filter
	loading  bool
	loaded   bool
	counts   [3]int // A, M, D

	// content mode
	content  bool
	cpath    string
	cloading bool
	cres     DiffContentMsg
	rows     []string
	rowsW    int
	scroll   ListNav
}

// NewDiff returns the Diff screen of from → to.
func NewDiff(src DiffSource, th *theme.Theme, from, to oid.Checksum) *Diff {
	k := DiffKeys{NavKeys: DefaultNavKeys()}
	k.Open.SetHelp("enter", "content diff")
	return &Diff{src: src, th: th, keys: k, from: from, to: to}
}

// Init implements Screen.
func (s *Diff) Init() tea.Cmd {
	s.loading = true
	src, a, b := s.src, s.from, s.to
	return func() tea.Msg {
		es, err := src.DiffCommits(context.Background(), a, b)
		return DiffListMsg{es, err}
	}
}

// Title implements Screen.
func (s *Diff) Title() string {
	t := "Diff " + s.from.Short() + "→" + s.to.Short()
	if s.content {
		t += " " + s.cpath
	}
	return t
}

// KeyMap implements Screen.
func (s *Diff) KeyMap() help.KeyMap {
	if s.content {
		k := diffContentKeys{s.keys.NavKeys}
		k.Back.SetHelp("esc", "list")
		return k
	}
	return s.keys
}

// Capturing implements Screen.
func (s *Diff) Capturing() bool { return s.filter.Active }

// ActionContext implements ActionContexter.
func (s *Diff) ActionContext() ActionContext { return ActionContext{Commit: s.to} }

func (s *Diff) filterLines() int {
	if s.filter.Active || s.filter.Text != "" {
		return 1
	}
	return 0
}

// SetSize implements Screen.
func (s *Diff) SetSize(w, h int) {
	s.w, s.h = w, h
	s.nav.Height = max(h-2-s.filterLines(), 1)
	s.nav.Clamp()
	s.scroll.Height = max(h-2, 1)
	if s.content && !s.cloading {
		s.render()
	}
}

// Selected returns the entry under the cursor.
func (s *Diff) Selected() (DiffEntry, bool) {
	if s.nav.Cursor < 0 || s.nav.Cursor >= len(s.shown) {
		return DiffEntry{}, false
	}
	return s.entries[s.shown[s.nav.Cursor]], true
}

func (s *Diff) applyFilter() {
	s.shown = s.shown[:0]
	for i, e := range s.entries {
		if s.filter.Match(e.Path) {
			s.shown = append(s.shown, i)
		}
	}
	s.nav.N = len(s.shown)
	s.nav.Height = max(s.h-2-s.filterLines(), 1)
	s.nav.Clamp()
}

// Update implements Screen.
func (s *Diff) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case DiffListMsg:
		s.loading = false
		if msg.Err != nil {
			return s, errCmd(fmt.Errorf("comparing %s with %s: %w", s.from, s.to, msg.Err))
		}
		s.entries, s.loaded = msg.Entries, true
		sort.SliceStable(s.entries, func(i, j int) bool { return s.entries[i].Path < s.entries[j].Path })
		s.counts = [3]int{}
		for _, e := range s.entries {
			s.counts[strings.IndexByte("AMD", e.Kind)]++
		}
		s.applyFilter()
	case DiffContentMsg:
		if !s.content || msg.Path != s.cpath {
			return s, nil
		}
		s.cloading = false
		if msg.Err != nil {
			s.content = false
			return s, errCmd(fmt.Errorf("reading %s: %w", msg.Path, msg.Err))
		}
		s.cres = msg
		s.scroll = ListNav{Height: max(s.h-2, 1)}
		s.render()
	case tea.KeyPressMsg:
		if s.content {
			return s, s.contentKey(msg)
		}
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
			return s, s.openContent()
		}
	case tea.MouseMsg:
		if s.content {
			if w, ok := msg.(tea.MouseWheelMsg); ok {
				if w.Button == tea.MouseWheelUp {
					s.scroll.Move(-3)
				} else if w.Button == tea.MouseWheelDown {
					s.scroll.Move(3)
				}
			}
			return s, nil
		}
		before := s.nav.Cursor
		if s.nav.Mouse(msg, msg.Mouse().Y-2-s.filterLines()) && before == s.nav.Cursor {
			return s, s.openContent()
		}
	}
	return s, nil
}

// InContent reports that a file's content diff is shown.
func (s *Diff) InContent() bool { return s.content }

func (s *Diff) contentKey(msg tea.KeyPressMsg) tea.Cmd {
	k := s.keys.NavKeys
	sc := &s.scroll
	switch {
	case key.Matches(msg, k.Back), msg.String() == "backspace", msg.String() == "h":
		s.content = false
	case key.Matches(msg, k.Up):
		sc.Move(-1)
	case key.Matches(msg, k.Down):
		sc.Move(1)
	case key.Matches(msg, k.PageUp):
		sc.Move(-max(sc.Height-1, 1))
	case key.Matches(msg, k.PageDown):
		sc.Move(max(sc.Height-1, 1))
	case key.Matches(msg, k.Top):
		sc.Offset = 0
	case key.Matches(msg, k.Bottom):
		sc.Offset = max(sc.N-sc.Height, 0)
	}
	return nil
}

func (s *Diff) openContent() tea.Cmd {
	e, ok := s.Selected()
	if !ok || s.loading {
		return nil
	}
	if e.Dir {
		return errCmd(fmt.Errorf("%s is a directory: its changes are listed under it", e.Path))
	}
	s.content, s.cpath, s.cloading = true, e.Path, true
	src, a, b, p := s.src, s.from, s.to, e.Path
	return func() tea.Msg {
		d, err := src.DiffFile(context.Background(), a, b, p)
		if err != nil {
			return DiffContentMsg{Path: p, Err: err}
		}
		if d.TooLarge {
			return DiffContentMsg{Path: p, Note: fmt.Sprintf("Files too large to diff here (%d and %d bytes)", d.OldSize, d.NewSize)}
		}
		if isBinary(d.Old, int64(len(d.Old))) || isBinary(d.New, int64(len(d.New))) {
			return DiffContentMsg{Path: p, Binary: true}
		}
		return DiffContentMsg{Path: p, Lines: DiffLines(string(d.Old), string(d.New))}
	}
}

// DiffLines computes a line diff with go-diff (line mode).
func DiffLines(a, b string) []DiffLine {
	dmp := diffmatchpatch.New()
	ca, cb, lines := dmp.DiffLinesToChars(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(ca, cb, false), lines)
	var out []DiffLine
	o, n := 0, 0
	for _, d := range diffs {
		text := strings.TrimSuffix(d.Text, "\n")
		if d.Text == "" {
			continue
		}
		for _, l := range strings.Split(text, "\n") {
			switch d.Type {
			case diffmatchpatch.DiffEqual:
				out = append(out, DiffLine{' ', o + 1, n + 1, l, o, n})
				o, n = o+1, n+1
			case diffmatchpatch.DiffDelete:
				out = append(out, DiffLine{'-', o + 1, 0, l, o, n})
				o++
			case diffmatchpatch.DiffInsert:
				out = append(out, DiffLine{'+', 0, n + 1, l, o, n})
				n++
			}
		}
	}
	return out
}

// Hunk is a run of changes with its context.
type Hunk struct {
	OldStart, OldLines, NewStart, NewLines int
	Lines                                  []DiffLine
}

// Hunks groups lines into hunks with ctx unchanged lines around changes.
func Hunks(lines []DiffLine, ctx int) []Hunk {
	var hunks []Hunk
	i := 0
	for i < len(lines) {
		for i < len(lines) && lines[i].Op == ' ' {
			i++
		}
		if i == len(lines) {
			break
		}
		start := max(i-ctx, 0)
		end := i
		for end < len(lines) {
			if lines[end].Op != ' ' {
				end++
				continue
			}
			// a run of equal lines: stop if longer than 2*ctx
			j := end
			for j < len(lines) && lines[j].Op == ' ' {
				j++
			}
			if j == len(lines) || j-end > 2*ctx {
				end = min(end+ctx, len(lines))
				break
			}
			end = j
		}
		hunks = append(hunks, makeHunk(lines[start:end]))
		i = end
	}
	return hunks
}

func makeHunk(ls []DiffLine) Hunk {
	h := Hunk{Lines: ls, OldStart: ls[0].oPos, NewStart: ls[0].nPos}
	for _, l := range ls {
		if l.Op != '+' {
			h.OldLines++
		}
		if l.Op != '-' {
			h.NewLines++
		}
	}
	// diff -u numbers an empty side by the line before it (0 at the top).
	if h.OldLines > 0 {
		h.OldStart++
	}
	if h.NewLines > 0 {
		h.NewStart++
	}
	return h
}

func (h Hunk) header() string {
	r := func(start, n int) string {
		if n == 1 {
			return fmt.Sprint(start)
		}
		return fmt.Sprintf("%d,%d", start, n)
	}
	return "@@ -" + r(h.OldStart, h.OldLines) + " +" + r(h.NewStart, h.NewLines) + " @@"
}

func (s *Diff) sideBySide() bool { return s.w >= SideBySideWidth }

// render lays the content diff out for the current width.
func (s *Diff) render() {
	s.rowsW = s.w
	r := s.cres
	switch {
	case r.Binary:
		s.rows = []string{"Binary files differ"}
	case r.Note != "":
		s.rows = []string{r.Note}
	case len(r.Lines) == 0:
		s.rows = []string{s.th.Dim.Render("(no content change: only metadata differs)")}
	case s.sideBySide():
		s.rows = s.sbsRows()
	default:
		s.rows = s.unifiedRows()
	}
	s.scroll.N = len(s.rows)
	s.scroll.Height = max(s.h-2, 1)
	s.scroll.Offset = min(s.scroll.Offset, max(s.scroll.N-s.scroll.Height, 0))
}

func (s *Diff) styled(op byte, text string) string {
	switch op {
	case '+':
		return s.th.Added.Render(text)
	case '-':
		return s.th.Removed.Render(text)
	}
	return text
}

func (s *Diff) unifiedRows() []string {
	rows := []string{s.th.Removed.Render("--- a" + s.cpath), s.th.Added.Render("+++ b" + s.cpath)}
	for _, h := range Hunks(s.cres.Lines, DiffContext) {
		rows = append(rows, s.th.Accent.Render(h.header()))
		for _, l := range h.Lines {
			rows = append(rows, s.styled(l.Op, theme.FitLine(string(l.Op)+printable([]byte(l.Text)), s.w)))
		}
	}
	return rows
}

func (s *Diff) sbsRows() []string {
	half := (s.w - 3) / 2
	num := 5
	cell := func(op byte, n int, text string) string {
		ns := ""
		if n > 0 {
			ns = fmt.Sprint(n)
		}
		c := fmt.Sprintf("%*s %c ", num, ns, op) + printable([]byte(text))
		if n == 0 {
			c = ""
		}
		return s.styled(op, theme.FitLine(c, half))
	}
	sep := s.th.Border.Render(" │ ")
	rows := []string{theme.FitLine(s.th.Removed.Render("--- a"+s.cpath), half) + sep + s.th.Added.Render("+++ b"+s.cpath)}
	for _, h := range Hunks(s.cres.Lines, DiffContext) {
		rows = append(rows, s.th.Accent.Render(h.header()))
		ls := h.Lines
		for i := 0; i < len(ls); {
			if ls[i].Op == ' ' {
				rows = append(rows, cell(' ', ls[i].Old, ls[i].Text)+sep+cell(' ', ls[i].New, ls[i].Text))
				i++
				continue
			}
			var del, ins []DiffLine
			for i < len(ls) && ls[i].Op == '-' {
				del = append(del, ls[i])
				i++
			}
			for i < len(ls) && ls[i].Op == '+' {
				ins = append(ins, ls[i])
				i++
			}
			for j := 0; j < max(len(del), len(ins)); j++ {
				var l, r string
				if j < len(del) {
					l = cell('-', del[j].Old, del[j].Text)
				} else {
					l = strings.Repeat(" ", half)
				}
				if j < len(ins) {
					r = cell('+', ins[j].New, ins[j].Text)
				}
				rows = append(rows, l+sep+r)
			}
		}
	}
	return rows
}

// View implements Screen.
func (s *Diff) View() string {
	if s.w <= 0 || s.h <= 0 {
		return ""
	}
	if s.content {
		return s.contentView()
	}
	summary := fmt.Sprintf("%s → %s   ", s.from.Short(), s.to.Short()) +
		s.th.Added.Render(fmt.Sprintf("A %d", s.counts[0])) + "  " +
		s.th.Modified.Render(fmt.Sprintf("M %d", s.counts[1])) + "  " +
		s.th.Removed.Render(fmt.Sprintf("D %d", s.counts[2]))
	lines := []string{summary, s.th.Border.Render(strings.Repeat("─", s.w))}
	if f := s.filter.View(s.th); f != "" {
		lines = append(lines, f)
	}
	switch {
	case s.loading:
		lines = append(lines, "  comparing…")
	case s.loaded && len(s.entries) == 0:
		lines = append(lines, "  the two commits have identical trees")
	case s.loaded && len(s.shown) == 0:
		lines = append(lines, "  nothing matches "+fmt.Sprintf("%q", s.filter.Text))
	}
	end := min(s.nav.Offset+s.nav.Height, len(s.shown))
	for i := s.nav.Offset; i < end; i++ {
		e := s.entries[s.shown[i]]
		p := e.Path
		if e.Dir {
			p += "/"
		}
		l := string(e.Kind) + "  " + p
		if i == s.nav.Cursor {
			lines = append(lines, s.th.Selected.Render(theme.FitLine("▸ "+l, s.w)))
			continue
		}
		st := map[byte]func(...string) string{'A': s.th.Added.Render, 'M': s.th.Modified.Render, 'D': s.th.Removed.Render}[e.Kind]
		lines = append(lines, "  "+st(string(e.Kind))+"  "+p)
	}
	return theme.Fit(strings.Join(lines, "\n"), s.w, s.h)
}

func (s *Diff) contentView() string {
	e, _ := s.Selected()
	head := s.th.Label.Render(string(e.Kind)+"  "+s.cpath) + s.th.Dim.Render("   esc: back to the list")
	lines := []string{head, s.th.Border.Render(strings.Repeat("─", s.w))}
	if s.cloading {
		lines = append(lines, "  computing the diff…")
		return theme.Fit(strings.Join(lines, "\n"), s.w, s.h)
	}
	if s.rowsW != s.w {
		s.render()
	}
	end := min(s.scroll.Offset+s.scroll.Height, len(s.rows))
	lines = append(lines, s.rows[s.scroll.Offset:end]...)
	return theme.Fit(strings.Join(lines, "\n"), s.w, s.h)
}
