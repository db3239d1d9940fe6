package views

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/theme"
)

// LogSource reads history. History returns up to n commits starting with
// from (inclusive) and following parents; a commit whose object is missing
// comes back Partial and ends the page.
type LogSource interface {
	Resolve(ctx context.Context, rev string) (oid.Checksum, error)
	History(ctx context.Context, from oid.Checksum, n int) ([]CommitInfo, error)
	Detached(ctx context.Context, commit oid.Checksum) (DetachedMeta, error)
}

// LogPageSize is how many commits one lazy load asks for.
var LogPageSize = 200

// LogKeys is the Log screen's key map.
type LogKeys struct {
	NavKeys
	Tree, Mark, Diff, Pane key.Binding
}

// ShortHelp implements help.KeyMap.
func (k LogKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Tree, k.Mark, k.Diff, k.Filter, k.Pane}
}

// FullHelp implements help.KeyMap.
func (k LogKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Tree, k.Mark, k.Diff, k.Filter, k.Pane, k.Back},
	}
}

// Messages of the Log screen.
type (
	logResolvedMsg struct {
		head oid.Checksum
		err  error
	}
	// LogPageMsg is one page of history (exported for tests that feed pages).
	LogPageMsg struct {
		From    oid.Checksum
		Commits []CommitInfo
		Err     error
	}
	logDetachedMsg struct {
		commit oid.Checksum
		meta   DetachedMeta
		err    error
	}
)

// Log shows a ref's history beside the selected commit's details.
type Log struct {
	src     LogSource
	th      *theme.Theme
	keys    LogKeys
	ref     string
	head    oid.Checksum
	w, h    int
	commits []CommitInfo
	shown   []int
	nav     ListNav
	filter  Filter
	next    oid.Checksum // first commit of the next page; zero: history ended
	loading bool         // a page is in flight
	started bool
	done    bool // whole history loaded
	detail  ListNav
	focus   int // 0 table, 1 detail pane
	det     map[oid.Checksum]DetachedMeta
	detErr  map[oid.Checksum]error
	detReq  map[oid.Checksum]bool
	marked  oid.Checksum
	verW    int // longest version loaded, for the VERSION column
}

// NewLog returns the Log of ref (resolved lazily when head is zero), or of
// the commit head when ref is "".
func NewLog(src LogSource, th *theme.Theme, ref string, head oid.Checksum) *Log {
	k := LogKeys{NavKeys: DefaultNavKeys(),
		Tree: key.NewBinding(key.WithKeys("enter", "t"), key.WithHelp("enter", "tree")),
		Mark: key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mark")),
		Diff: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "diff marked")),
		Pane: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "pane")),
	}
	return &Log{src: src, th: th, keys: k, ref: ref, head: head,
		det: map[oid.Checksum]DetachedMeta{}, detErr: map[oid.Checksum]error{}, detReq: map[oid.Checksum]bool{}}
}

// Init implements Screen: resolve the ref if needed, then the first page.
func (s *Log) Init() tea.Cmd {
	s.loading = true
	if s.head.IsZero() {
		src, ref := s.src, s.ref
		return func() tea.Msg {
			h, err := src.Resolve(context.Background(), ref)
			return logResolvedMsg{h, err}
		}
	}
	return s.page(s.head)
}

// Refresh implements Refresher: reload from the ref's current head.
func (s *Log) Refresh() tea.Cmd {
	if s.ref == "" {
		return nil
	}
	s.head, s.commits, s.shown, s.done, s.started = oid.Checksum{}, nil, nil, false, false
	s.nav = ListNav{Height: s.nav.Height}
	return s.Init()
}

func (s *Log) page(from oid.Checksum) tea.Cmd {
	s.loading, s.started = true, true
	src, n := s.src, LogPageSize
	return func() tea.Msg {
		cs, err := src.History(context.Background(), from, n)
		return LogPageMsg{From: from, Commits: cs, Err: err}
	}
}

// Loading reports that a page is in flight (tests).
func (s *Log) Loading() bool { return s.loading }

// Len is the number of commits loaded so far.
func (s *Log) Len() int { return len(s.commits) }

// Title implements Screen.
func (s *Log) Title() string {
	t := "Log " + s.ref
	if s.ref == "" {
		t = "Log " + s.head.Short()
	}
	switch {
	case s.done:
		t += fmt.Sprintf(" (%d)", len(s.commits))
	case len(s.commits) > 0:
		t += fmt.Sprintf(" (%d+)", len(s.commits))
	}
	return t
}

// KeyMap implements Screen.
func (s *Log) KeyMap() help.KeyMap { return s.keys }

// Capturing implements Screen.
func (s *Log) Capturing() bool { return s.filter.Active }

// ActionContext implements ActionContexter: the log's ref and the
// selected commit (the head until history loads).
func (s *Log) ActionContext() ActionContext {
	ctx := ActionContext{Ref: s.ref, Commit: s.head}
	if c, ok := s.Selected(); ok {
		ctx.Commit = c.Checksum
	}
	return ctx
}

// wide: the detail pane sits beside the table instead of below it.
func (s *Log) wide() bool { return s.w >= 120 }

func (s *Log) tableSize() (w, h int) {
	h = s.h - 1 // column heading
	if s.filter.Active || s.filter.Text != "" {
		h--
	}
	w = s.w
	if s.wide() {
		// The detail pane gets room for a labelled full checksum
		// (9 + 64 columns) when the table keeps 60.
		dw := s.w * 9 / 20
		if s.w-75 >= 60 {
			dw = 74
		}
		w = s.w - dw - 1
	} else {
		h = h - s.h*2/5
	}
	return w, max(h, 1)
}

func (s *Log) detailSize() (w, h int) {
	if s.wide() {
		tw, _ := s.tableSize()
		return s.w - tw - 1, s.h
	}
	_, th := s.tableSize()
	return s.w, max(s.h-th-1-1-s.filterLines(), 1)
}

func (s *Log) filterLines() int {
	if s.filter.Active || s.filter.Text != "" {
		return 1
	}
	return 0
}

// SetSize implements Screen.
func (s *Log) SetSize(w, h int) {
	s.w, s.h = w, h
	_, s.nav.Height = s.tableSize()
	s.nav.Clamp()
	_, s.detail.Height = s.detailSize()
}

// Selected returns the commit under the cursor.
func (s *Log) Selected() (CommitInfo, bool) {
	if s.nav.Cursor < 0 || s.nav.Cursor >= len(s.shown) {
		return CommitInfo{}, false
	}
	return s.commits[s.shown[s.nav.Cursor]], true
}

func (s *Log) applyFilter() {
	var keep oid.Checksum
	if c, ok := s.Selected(); ok {
		keep = c.Checksum
	}
	s.shown = s.shown[:0]
	for i, c := range s.commits {
		if s.filter.Match(c.Checksum.String(), c.Version(), c.Subject()) {
			s.shown = append(s.shown, i)
		}
	}
	s.nav.N = len(s.shown)
	_, s.nav.Height = s.tableSize()
	for i, idx := range s.shown {
		if s.commits[idx].Checksum == keep {
			s.nav.Cursor = i
		}
	}
	s.nav.Clamp()
}

// maybeMore asks for the next page when the cursor is within a screen of
// the loaded end, so scrolling never waits on disk.
func (s *Log) maybeMore() tea.Cmd {
	if s.loading || s.done || s.next.IsZero() {
		return nil
	}
	if s.nav.Cursor+2*max(s.nav.Height, 10) < len(s.shown) {
		return nil
	}
	return s.page(s.next)
}

// wantDetached loads the selected commit's detached metadata, once.
func (s *Log) wantDetached() tea.Cmd {
	c, ok := s.Selected()
	if !ok || c.Partial || s.detReq[c.Checksum] {
		return nil
	}
	s.detReq[c.Checksum] = true
	src, sum := s.src, c.Checksum
	return func() tea.Msg {
		m, err := src.Detached(context.Background(), sum)
		return logDetachedMsg{sum, m, err}
	}
}

func (s *Log) moved() tea.Cmd {
	s.detail.Cursor, s.detail.Offset = 0, 0
	return tea.Batch(s.maybeMore(), s.wantDetached())
}

// Update implements Screen.
func (s *Log) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case logResolvedMsg:
		if msg.err != nil {
			s.loading = false
			return s, errCmd(fmt.Errorf("resolving %s: %w", s.ref, msg.err))
		}
		s.head = msg.head
		return s, s.page(s.head)
	case LogPageMsg:
		s.loading = false
		if msg.Err != nil {
			return s, errCmd(fmt.Errorf("reading history of %s at %s: %w", s.ref, msg.From.Short(), msg.Err))
		}
		if len(s.commits) > 0 && msg.From != s.next {
			return s, nil // stale page (refreshed meanwhile)
		}
		s.commits = append(s.commits, msg.Commits...)
		for _, c := range msg.Commits {
			s.verW = max(s.verW, len([]rune(c.Version())))
		}
		s.next = oid.Checksum{}
		if n := len(msg.Commits); n > 0 && !msg.Commits[n-1].Partial && msg.Commits[n-1].Commit != nil {
			s.next = msg.Commits[n-1].Commit.Parent
		}
		s.done = s.next.IsZero() || len(msg.Commits) < LogPageSize
		s.applyFilter()
		return s, tea.Batch(s.maybeMore(), s.wantDetached())
	case logDetachedMsg:
		if msg.err != nil {
			s.detErr[msg.commit] = msg.err
		} else {
			s.det[msg.commit] = msg.meta
		}
	case MarkedMsg:
		s.marked = msg.Commit
	case tea.KeyPressMsg:
		if used, changed := s.filter.Key(msg); used {
			if changed || !s.filter.Active {
				s.applyFilter()
			}
			return s, s.moved()
		}
		if s.focus == 1 && s.scrollDetail(msg) {
			return s, nil
		}
		switch {
		case key.Matches(msg, s.keys.Pane):
			s.focus = 1 - s.focus
		case s.nav.Key(s.keys.NavKeys, msg):
			return s, s.moved()
		case key.Matches(msg, s.keys.Filter):
			s.filter.Active = true
			s.applyFilter()
		case key.Matches(msg, s.keys.Back):
			if s.filter.Text != "" {
				s.filter.Text = ""
				s.applyFilter()
				return s, s.moved()
			}
			if s.focus == 1 {
				s.focus = 0
				return s, nil
			}
			return s, backCmd
		case key.Matches(msg, s.keys.Tree):
			if c, ok := s.Selected(); ok && !c.Partial {
				return s, func() tea.Msg { return OpenTreeMsg{Commit: c.Checksum, Path: "/"} }
			}
		case key.Matches(msg, s.keys.Mark):
			if c, ok := s.Selected(); ok {
				label := c.Checksum.Short()
				if s.ref != "" {
					label = s.ref + "@" + label
				}
				if s.marked == c.Checksum {
					return s, func() tea.Msg { return MarkMsg{} }
				}
				return s, func() tea.Msg { return MarkMsg{Commit: c.Checksum, Label: label} }
			}
		case key.Matches(msg, s.keys.Diff):
			c, ok := s.Selected()
			if !ok {
				return s, nil
			}
			if s.marked.IsZero() {
				return s, errCmd(fmt.Errorf("no commit marked: press m on a commit first, then d on another"))
			}
			from := s.marked
			return s, func() tea.Msg { return OpenDiffMsg{From: from, To: c.Checksum} }
		}
	case tea.MouseMsg:
		m := msg.Mouse()
		tw, _ := s.tableSize()
		if m.X < tw || !s.wide() {
			before := s.nav.Cursor
			if s.nav.Mouse(msg, m.Y-1-s.filterLines()) || s.nav.Cursor != before {
				return s, s.moved()
			}
			return s, nil
		}
		if w, ok := msg.(tea.MouseWheelMsg); ok {
			if w.Button == tea.MouseWheelUp {
				s.detail.Offset = max(s.detail.Offset-3, 0)
			} else if w.Button == tea.MouseWheelDown {
				s.detail.Offset += 3
			}
		}
	}
	return s, nil
}

// scrollDetail scrolls the detail pane (focused with tab).
func (s *Log) scrollDetail(msg tea.KeyPressMsg) bool {
	k := s.keys.NavKeys
	d := &s.detail
	switch {
	case key.Matches(msg, k.Up):
		d.Offset--
	case key.Matches(msg, k.Down):
		d.Offset++
	case key.Matches(msg, k.PageUp):
		d.Offset -= max(d.Height-1, 1)
	case key.Matches(msg, k.PageDown):
		d.Offset += max(d.Height-1, 1)
	case key.Matches(msg, k.Top):
		d.Offset = 0
	case key.Matches(msg, k.Bottom):
		d.Offset = 1 << 30
	default:
		return false
	}
	d.Offset = max(d.Offset, 0)
	return true
}

var logColumns = []Column{{"COMMIT", 10}, {"VERSION", 14}, {"DATE", 16}, {"SUBJECT", 0}}

// View implements Screen.
func (s *Log) View() string {
	if s.w <= 0 || s.h <= 0 {
		return ""
	}
	tw, th := s.tableSize()
	table := s.tableView(tw, th)
	dw, dh := s.detailSize()
	detail := s.detailView(dw, dh)
	if s.wide() {
		tl := strings.Split(table, "\n")
		dl := strings.Split(detail, "\n")
		sep := s.th.Border.Render("│")
		out := make([]string, s.h)
		for i := range out {
			var a, b string
			if i < len(tl) {
				a = tl[i]
			}
			if i < len(dl) {
				b = dl[i]
			}
			out[i] = theme.FitLine(a, tw) + sep + theme.FitLine(b, dw)
		}
		return strings.Join(out, "\n")
	}
	rule := s.th.Border.Render(strings.Repeat("─", s.w))
	return theme.Fit(table+"\n"+rule+"\n"+detail, s.w, s.h)
}

// logLayout sizes the table's columns: VERSION as wide as the longest
// version (7 to 14), DATE without the time when SUBJECT would get < 20.
func logLayout(w, verW int) []int {
	cols := append([]Column(nil), logColumns...)
	cols[1].Width = min(max(verW, 7), 14)
	if w-(2+10+1+cols[1].Width+1+16+1) < 30 {
		cols[2].Width = 10
	}
	return layoutColumns(cols, w)
}

func (s *Log) tableView(w, h int) string {
	lw := w
	if s.wide() {
		lw-- // a blank column before the detail pane's rule
	}
	ws := logLayout(lw, s.verW)
	titles := make([]string, len(logColumns))
	for i, c := range logColumns {
		titles[i] = c.Title
	}
	heading := tableRow(titles, ws, false)
	lines := []string{s.th.Column.Render(theme.FitLine(heading, w))}
	if f := s.filter.View(s.th); f != "" {
		lines = append(lines, f)
	}
	end := min(s.nav.Offset+s.nav.Height, len(s.shown))
	for i := s.nav.Offset; i < end; i++ {
		c := s.commits[s.shown[i]]
		sel := i == s.nav.Cursor
		mark := ""
		if c.Checksum == s.marked {
			mark = "● "
		}
		date := ""
		if !c.Time().IsZero() {
			date = c.Time().Format("2006-01-02 15:04")[:ws[2]]
		}
		subject := mark + c.Subject()
		if c.Partial {
			subject = "(partial: commit object not in this repository)"
		}
		cells := []string{c.Checksum.String()[:10], c.Version(), date, subject}
		if sel {
			lines = append(lines, s.th.Selected.Render(theme.FitLine(tableRow(cells, ws, true), w)))
			continue
		}
		cells[0] = s.th.Dim.Render(theme.FitLine(cells[0], ws[0]))
		cells[1] = s.th.Accent.Render(theme.FitLine(cells[1], ws[1]))
		cells[2] = s.th.Dim.Render(theme.FitLine(cells[2], ws[2]))
		if mark != "" {
			cells[3] = s.th.Marked.Render(theme.FitLine(cells[3], ws[3]))
		}
		lines = append(lines, tableRow(cells, ws, false))
	}
	if s.loading && len(lines) < h+1+s.filterLines() {
		lines = append(lines, s.th.Dim.Render("  loading commits…"))
	} else if s.started && !s.loading && len(s.commits) == 0 {
		lines = append(lines, "  no commits")
	}
	return theme.Fit(strings.Join(lines, "\n"), w, h+1+s.filterLines())
}

// detailLines renders the selected commit's details, unclipped.
func (s *Log) detailLines(w int) []string {
	c, ok := s.Selected()
	if !ok {
		return nil
	}
	lab := func(l string) string { return s.th.Label.Render(fmt.Sprintf("%-9s", l)) }
	lines := []string{lab("Commit") + c.Checksum.String()}
	if c.Partial || c.Commit == nil {
		return append(lines, "", "This commit object is not in the repository (partial history).")
	}
	cm := c.Commit
	parent := "(none: root commit)"
	if cm.HasParent() {
		parent = cm.Parent.String()
	}
	lines = append(lines,
		lab("Parent")+parent,
		lab("Date")+cm.Time().Format("2006-01-02 15:04:05 +0000"),
		lab("Content")+cm.ContentChecksum().String(),
		lab("Tree")+cm.RootTree.String(),
		lab("Subject")+cm.Subject,
	)
	if cm.Body != "" {
		lines = append(lines, "")
		for _, l := range strings.Split(cm.Body, "\n") {
			lines = append(lines, "  "+l)
		}
	}
	lines = append(lines, "", s.th.Column.Render("Metadata"))
	if len(cm.Metadata) == 0 {
		lines = append(lines, "  (none)")
	}
	lines = append(lines, metaLines(cm.Metadata)...)
	lines = append(lines, "", s.th.Column.Render("Detached metadata"))
	meta, loaded := s.det[c.Checksum]
	switch {
	case s.detErr[c.Checksum] != nil:
		lines = append(lines, "  error: "+s.detErr[c.Checksum].Error())
	case !loaded:
		lines = append(lines, "  loading…")
	case len(meta) == 0:
		lines = append(lines, "  (none)")
	default:
		lines = append(lines, metaLines(meta)...)
	}
	return lines
}

// metaLines prints "key: value" in GVariant text, like `ostree show`.
func metaLines(meta []gvariant.DictEntry) []string {
	var out []string
	for _, e := range meta {
		k := fmt.Sprint(e.Key)
		var v string
		if vv, ok := e.Value.(gvariant.Variant); ok && vv.Type != nil {
			v = gvariant.Print(vv.Type, vv.Value, false)
		} else {
			v = fmt.Sprint(e.Value)
		}
		out = append(out, "  "+k+": "+v)
	}
	return out
}

func (s *Log) detailView(w, h int) string {
	var lines []string
	for _, l := range s.detailLines(w) {
		// Wrap rather than cut: full checksums must stay readable.
		lines = append(lines, strings.Split(ansi.Hardwrap(l, w, true), "\n")...)
	}
	// Offset may run past the end after a resize or G: clamp when drawing.
	off := min(s.detail.Offset, max(len(lines)-h, 0))
	s.detail.Offset = off
	lines = lines[off:]
	if s.focus == 1 && len(lines) > 0 {
		lines[0] = s.th.Selected.Render(theme.FitLine(lines[0], w))
	}
	return theme.Fit(strings.Join(lines, "\n"), w, h)
}
