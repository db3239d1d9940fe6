package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/groveos/grove/theme"
	"github.com/groveos/grove/views"
)

// GlobalKeys are handled by the root on every screen.
type GlobalKeys struct {
	Quit, ForceQuit, Help, CmdLog, Back, Actions key.Binding
}

func defaultGlobalKeys() GlobalKeys {
	return GlobalKeys{
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		CmdLog:    key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "command log")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Actions:   views.ActionsKey(),
	}
}

// helpKeys merges a screen's key map with the global keys.
type helpKeys struct {
	screen  help.KeyMap
	g       GlobalKeys
	actions bool // the actions key works on this screen
}

// globalShort are the global keys of the short help, always shown.
func (h helpKeys) globalShort() []key.Binding {
	if h.actions {
		return []key.Binding{h.g.Actions, h.g.Help, h.g.Quit}
	}
	return []key.Binding{h.g.Help, h.g.Quit}
}

func (h helpKeys) ShortHelp() []key.Binding {
	var b []key.Binding
	if h.screen != nil {
		b = h.screen.ShortHelp()
	}
	return append(b, h.globalShort()...)
}

func (h helpKeys) FullHelp() [][]key.Binding {
	var b [][]key.Binding
	if h.screen != nil {
		b = h.screen.FullHelp()
	}
	g := []key.Binding{h.g.Back, h.g.CmdLog, h.g.Help, h.g.Quit, h.g.ForceQuit}
	if h.actions {
		g = append([]key.Binding{h.g.Actions}, g...)
	}
	return append(b, g)
}

// actionsAllowed: the actions key opens the menu on every screen except
// the menu and its forms.
func actionsAllowed(s views.Screen) bool {
	switch s.(type) {
	case *views.Actions, *views.ActionForm:
		return false
	}
	return true
}

// keyMap is the help of the active screen with the global keys.
func (m *Model) keyMap() helpKeys {
	top := m.Top()
	return helpKeys{top.KeyMap(), m.keys, actionsAllowed(top)}
}

// LogEntry is one line of the command-log pane.
type LogEntry struct {
	Time    time.Time
	Cmd     string
	Err     error
	Summary string
}

// routedMsg carries a message produced by a screen's command back to that
// screen, even when another screen has been pushed on top meanwhile.
type routedMsg struct {
	id  int
	msg tea.Msg
}

// actionEvent is what a running action's channel yields.
type actionEvent struct {
	ch  chan tea.Msg
	msg tea.Msg
}

// actionDoneMsg ends a RunActionMsg.
type actionDoneMsg struct {
	action  views.RunActionMsg
	summary string
	err     error
}

// cmdLogHeight is the height of the command-log pane when shown.
const cmdLogHeight = 8

// Model is the root: a screen stack plus header, error banner, command log,
// progress bars and help footer. It routes; screens do the work.
type Model struct {
	svc      *Services
	th       *theme.Theme
	keys     GlobalKeys
	help     help.Model
	stack    []views.Screen
	ids      []int
	nextID   int
	w, h     int
	fullHelp bool
	err      error
	showLog  bool
	entries  []LogEntry
	progress []views.ProgressMsg
	mark     views.MarkMsg
	ctx      context.Context
	cancel   context.CancelFunc
	actions  int
	// Now stamps command-log entries (tests pin it).
	Now func() time.Time
}

// New returns the root model showing first (usually views.NewRefs).
func New(svc *Services, th *theme.Theme, first views.Screen) *Model {
	ctx, cancel := context.WithCancel(context.Background())
	m := &Model{svc: svc, th: th, keys: defaultGlobalKeys(), help: help.New(), ctx: ctx, cancel: cancel, Now: time.Now}
	m.styleHelp()
	m.push(first)
	return m
}

func (m *Model) styleHelp() {
	m.help.Styles = help.Styles{
		Ellipsis: m.th.Dim, ShortKey: m.th.Key, ShortDesc: m.th.Desc, ShortSeparator: m.th.Dim,
		FullKey: m.th.Key, FullDesc: m.th.Desc, FullSeparator: m.th.Dim,
	}
}

// Screens returns the stack, bottom first (tests).
func (m *Model) Screens() []views.Screen { return m.stack }

// Top returns the active screen.
func (m *Model) Top() views.Screen { return m.stack[len(m.stack)-1] }

// Err returns the error shown in the banner, if any.
func (m *Model) Err() error { return m.err }

// Entries returns the command log.
func (m *Model) Entries() []LogEntry { return m.entries }

// push adds a screen (not yet initialised).
func (m *Model) push(s views.Screen) {
	m.stack = append(m.stack, s)
	m.nextID++
	m.ids = append(m.ids, m.nextID)
	m.layout()
}

// wrap tags a screen's command results with the screen's id.
func wrap(id int, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		msg := cmd()
		switch msg := msg.(type) {
		case nil:
			return nil
		case tea.BatchMsg:
			out := make(tea.BatchMsg, len(msg))
			for i, c := range msg {
				out[i] = wrap(id, c)
			}
			return out
		}
		return routedMsg{id, msg}
	}
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, m.initTop())
}

func (m *Model) initTop() tea.Cmd {
	i := len(m.stack) - 1
	cmd := wrap(m.ids[i], m.stack[i].Init())
	if !m.mark.Commit.IsZero() {
		cmd = tea.Batch(cmd, m.deliver(i, views.MarkedMsg(m.mark)))
	}
	return cmd
}

// deliver sends msg to the screen at stack index i.
func (m *Model) deliver(i int, msg tea.Msg) tea.Cmd {
	s, cmd := m.stack[i].Update(msg)
	m.stack[i] = s
	return wrap(m.ids[i], cmd)
}

func (m *Model) heights() (header, banner, body, logPane, footer int) {
	header = 1
	if m.err != nil {
		banner = 1
	}
	if m.showLog {
		logPane = cmdLogHeight
	}
	footer = 1
	if m.fullHelp {
		footer = max(lipglossHeight(m.help.FullHelpView(m.keyMap().FullHelp())), 1)
	}
	footer += len(m.progress)
	body = max(m.h-header-banner-logPane-footer, 1)
	return
}

func lipglossHeight(s string) int { return strings.Count(s, "\n") + 1 }

// layout gives every screen the body's size.
func (m *Model) layout() {
	if m.w == 0 || len(m.stack) == 0 {
		return
	}
	m.help.SetWidth(m.w)
	_, _, body, _, _ := m.heights()
	for _, s := range m.stack {
		s.SetSize(m.w, body)
	}
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case routedMsg:
		if isRootMsg(msg.msg) {
			return m.update(msg.msg)
		}
		for i, id := range m.ids {
			if id == msg.id {
				return m.deliver(i, msg.msg)
			}
		}
		return nil // the screen is gone
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.layout()
		return nil
	case tea.BackgroundColorMsg:
		if !m.th.IsPlain() {
			m.th.SetDark(msg.IsDark())
			m.styleHelp()
		}
		return nil
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.MouseMsg:
		return m.mouse(msg)
	case views.ErrorMsg:
		if msg.Err != nil {
			m.err = msg.Err
			m.layout()
		}
		return nil
	case views.BackMsg:
		if len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
			m.ids = m.ids[:len(m.ids)-1]
			m.layout()
		}
		return nil
	case views.OpenScreenMsg:
		if msg.Screen == nil {
			return nil
		}
		m.push(msg.Screen)
		return m.initTop()
	case views.OpenLogMsg, views.OpenTreeMsg, views.OpenFileMsg, views.OpenDiffMsg:
		s, ok := open(m.svc, m.th, msg)
		if !ok {
			m.err = fmt.Errorf("%s is not available in this build", screenName(msg))
			m.layout()
			return nil
		}
		m.push(s)
		return m.initTop()
	case views.MarkMsg:
		m.mark = msg
		var cmds []tea.Cmd
		for i := range m.stack {
			cmds = append(cmds, m.deliver(i, views.MarkedMsg(msg)))
		}
		return tea.Batch(cmds...)
	case views.CommandLogMsg:
		m.entries = append(m.entries, LogEntry{Time: m.Now(), Cmd: msg.Cmd, Err: msg.Err, Summary: msg.Summary})
		return nil
	case views.ProgressMsg:
		m.setProgress(msg)
		return nil
	case views.RunActionMsg:
		return m.run(msg)
	case actionEvent:
		if done, ok := msg.msg.(actionDoneMsg); ok {
			return m.finish(done)
		}
		if p, ok := msg.msg.(views.ProgressMsg); ok {
			m.setProgress(p)
		}
		return listen(msg.ch)
	}
	return m.deliver(len(m.stack)-1, msg)
}

// isRootMsg reports messages the root handles whoever produced them.
func isRootMsg(msg tea.Msg) bool {
	switch msg.(type) {
	case views.ErrorMsg, views.BackMsg, views.OpenScreenMsg, views.OpenLogMsg, views.OpenTreeMsg,
		views.OpenFileMsg, views.OpenDiffMsg, views.MarkMsg, views.CommandLogMsg, views.ProgressMsg,
		views.RunActionMsg, actionEvent, tea.QuitMsg:
		return true
	}
	return false
}

func screenName(msg tea.Msg) string {
	switch msg.(type) {
	case views.OpenTreeMsg:
		return "the tree browser"
	case views.OpenFileMsg:
		return "the file viewer"
	case views.OpenDiffMsg:
		return "the diff screen"
	}
	return "this screen"
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.ForceQuit) {
		return m.quit()
	}
	if m.err != nil {
		m.err = nil // any key dismisses the banner
		m.layout()
		return nil
	}
	top := m.Top()
	if !top.Capturing() {
		switch {
		case key.Matches(msg, m.keys.Quit):
			return m.quit()
		case key.Matches(msg, m.keys.Help):
			m.fullHelp = !m.fullHelp
			m.layout()
			return nil
		case key.Matches(msg, m.keys.CmdLog):
			m.showLog = !m.showLog
			m.layout()
			return nil
		case key.Matches(msg, m.keys.Back) && m.fullHelp:
			m.fullHelp = false
			m.layout()
			return nil
		case key.Matches(msg, m.keys.Actions) && actionsAllowed(top):
			var ctx views.ActionContext
			if c, ok := top.(views.ActionContexter); ok {
				ctx = c.ActionContext()
			}
			return m.update(views.OpenScreenMsg{Screen: views.NewActions(m.svc, m.th, ctx)})
		}
	}
	return m.deliver(len(m.stack)-1, msg)
}

func (m *Model) quit() tea.Cmd {
	m.cancel()
	return tea.Quit
}

// mouse forwards events over the body with screen-relative coordinates.
func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	header, banner, body, _, _ := m.heights()
	mo := msg.Mouse()
	y := mo.Y - header - banner
	if y < 0 || y >= body {
		return nil
	}
	mo.Y = y
	var out tea.Msg
	switch msg.(type) {
	case tea.MouseClickMsg:
		if m.err != nil {
			m.err = nil
			m.layout()
			return nil
		}
		out = tea.MouseClickMsg(mo)
	case tea.MouseWheelMsg:
		out = tea.MouseWheelMsg(mo)
	case tea.MouseReleaseMsg:
		out = tea.MouseReleaseMsg(mo)
	case tea.MouseMotionMsg:
		out = tea.MouseMotionMsg(mo)
	default:
		return nil
	}
	return m.deliver(len(m.stack)-1, out)
}

func (m *Model) setProgress(p views.ProgressMsg) {
	for i := range m.progress {
		if m.progress[i].ID == p.ID {
			if p.Finished {
				m.progress = append(m.progress[:i], m.progress[i+1:]...)
			} else {
				m.progress[i] = p
			}
			m.layout()
			return
		}
	}
	if !p.Finished {
		m.progress = append(m.progress, p)
		m.layout()
	}
}

// run starts an action in a goroutine; its progress and end come back
// through a channel drained by a re-arming command.
func (m *Model) run(a views.RunActionMsg) tea.Cmd {
	if a.Run == nil {
		return nil
	}
	m.actions++
	if a.ID == "" {
		a.ID = fmt.Sprintf("action-%d", m.actions)
	}
	ch := make(chan tea.Msg, 16)
	ctx := m.ctx
	m.setProgress(views.ProgressMsg{ID: a.ID, Title: a.Title})
	go func() {
		summary, err := a.Run(ctx, func(done, total int64) {
			select { // drop updates the UI has not caught up with
			case ch <- views.ProgressMsg{ID: a.ID, Title: a.Title, Done: done, Total: total}:
			default:
			}
		})
		ch <- actionDoneMsg{a, summary, err}
	}()
	return listen(ch)
}

func listen(ch chan tea.Msg) tea.Cmd {
	return func() tea.Msg { return actionEvent{ch, <-ch} }
}

func (m *Model) finish(d actionDoneMsg) tea.Cmd {
	m.setProgress(views.ProgressMsg{ID: d.action.ID, Finished: true})
	m.entries = append(m.entries, LogEntry{Time: m.Now(), Cmd: d.action.Cmd, Err: d.err, Summary: d.summary})
	if d.err != nil {
		m.err = fmt.Errorf("%s: %w", d.action.Title, d.err)
	}
	m.layout()
	var cmds []tea.Cmd
	for i, s := range m.stack {
		if r, ok := s.(views.Refresher); ok {
			cmds = append(cmds, wrap(m.ids[i], r.Refresh()))
		}
	}
	if d.action.Done != nil {
		cmds = append(cmds, m.deliver(len(m.stack)-1, d.action.Done(d.summary, d.err)))
	}
	return tea.Batch(cmds...)
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "grove"
	return v
}

// Render draws the whole screen as a string (tests use it directly).
func (m *Model) Render() string {
	if m.w <= 0 || m.h <= 0 {
		return ""
	}
	_, banner, body, logPane, _ := m.heights()
	parts := []string{m.header()}
	if banner > 0 {
		parts = append(parts, m.th.Error.Render(theme.FitLine(" ✗ "+oneLine(m.err.Error())+"   (any key dismisses)", m.w)))
	}
	parts = append(parts, theme.Fit(m.Top().View(), m.w, body))
	if logPane > 0 {
		parts = append(parts, m.cmdLogView(logPane))
	}
	for _, p := range m.progress {
		parts = append(parts, m.progressLine(p))
	}
	km := m.keyMap()
	if m.fullHelp {
		parts = append(parts, m.help.FullHelpView(km.FullHelp()))
	} else {
		parts = append(parts, m.shortHelp(km))
	}
	return theme.Fit(strings.Join(parts, "\n"), m.w, m.h)
}

// shortHelp draws the screen's keys, cut to fit, then the global keys,
// which always show.
func (m *Model) shortHelp(km helpKeys) string {
	global := m.help.ShortHelpView(km.globalShort())
	var own []key.Binding
	if km.screen != nil {
		own = km.screen.ShortHelp()
	}
	sep := m.help.Styles.ShortSeparator.Inline(true).Render(m.help.ShortSeparator)
	room := m.w - lipglossWidth(global) - lipglossWidth(sep)
	if len(own) == 0 || room < 8 {
		return theme.FitLine(global, m.w)
	}
	// Cut by hand: help.ShortHelpView overflows when its ellipsis does not fit.
	st := m.help.Styles
	var b strings.Builder
	used := 0
	for _, kb := range own {
		if !kb.Enabled() {
			continue
		}
		item := st.ShortKey.Inline(true).Render(kb.Help().Key) + " " + st.ShortDesc.Inline(true).Render(kb.Help().Desc)
		if used > 0 {
			item = sep + item
		}
		if used+lipglossWidth(item) > room-2 {
			b.WriteString(" " + st.Ellipsis.Inline(true).Render("…"))
			break
		}
		used += lipglossWidth(item)
		b.WriteString(item)
	}
	return theme.FitLine(b.String()+sep+global, m.w)
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// header draws " grove PATH  Crumb › Crumb … marked: X". When space is
// short the repository path shrinks first (middle ellipsis, then gone),
// then the first crumbs collapse into "…"; the mark and the active
// screen's crumb always show.
func (m *Model) header() string {
	right := ""
	if !m.mark.Commit.IsZero() {
		label := shortLabel(m.mark.Label, max(m.w*2/5-8, 12))
		right = m.th.Marked.Inherit(m.th.Header).Render("marked: "+label) + m.th.Header.Render(" ")
	}
	// Each piece carries the bar's background: an inner style's reset
	// would otherwise end the bar early.
	bar := m.th.Header.Render
	lead := bar(" ") + m.th.Title.Inherit(m.th.Header).Render("grove") + bar(" ")
	avail := m.w - lipglossWidth(lead) - lipglossWidth(right) - 1
	crumbs := make([]string, len(m.stack))
	for i, s := range m.stack {
		crumbs[i] = s.Title()
	}
	trail := strings.Join(crumbs, " › ")
	for i := 1; lipglossWidth(trail) > avail && i < len(crumbs); i++ {
		trail = strings.Join(append([]string{"…"}, crumbs[i:]...), " › ")
	}
	trail = theme.FitLine(trail, min(lipglossWidth(trail), max(avail, 0)))
	left := lead + bar(trail)
	if room := avail - lipglossWidth(trail) - 2; room >= min(12, lipglossWidth(m.svc.RepoPath)) {
		left = lead + m.th.Dim.Inherit(m.th.Header).Render(theme.MiddleEllipsis(m.svc.RepoPath, room)) + bar("  "+trail)
	}
	gap := m.w - lipglossWidth(left) - lipglossWidth(right)
	if gap < 1 {
		return theme.FitLine(left, m.w)
	}
	return left + bar(strings.Repeat(" ", gap)) + right
}

// shortLabel fits a mark label ("ref@checksum") in width columns, keeping
// the checksum and the end of the ref ("…x86_64/base@d391dca41e").
func shortLabel(l string, width int) string {
	if lipglossWidth(l) <= width {
		return l
	}
	i := strings.LastIndex(l, "@")
	if i < 0 || len(l)-i+2 > width {
		return theme.MiddleEllipsis(l, width)
	}
	ref := []rune(l[:i])
	keep := width - (len(l) - i) - 1
	return "…" + string(ref[len(ref)-keep:]) + l[i:]
}

func (m *Model) cmdLogView(h int) string {
	lines := []string{m.th.Column.Render(theme.FitLine("── command log "+strings.Repeat("─", max(m.w-15, 0)), m.w))}
	if len(m.entries) == 0 {
		lines = append(lines, m.th.Dim.Render("  no commands run yet"))
	}
	start := max(len(m.entries)-(h-1), 0)
	for _, e := range m.entries[start:] {
		status, st := "✓", m.th.OK
		out := e.Summary
		if e.Err != nil {
			status, st, out = "✗", m.th.Error, e.Err.Error()
		}
		l := e.Time.Format("15:04:05") + " " + st.Render(status) + " " + e.Cmd
		if out != "" {
			l += m.th.Dim.Render("  → " + oneLine(out))
		}
		lines = append(lines, l)
	}
	return theme.Fit(strings.Join(lines, "\n"), m.w, h)
}

func (m *Model) progressLine(p views.ProgressMsg) string {
	barW := min(30, max(m.w/4, 10))
	var bar, pct string
	if p.Total > 0 {
		f := float64(p.Done) / float64(p.Total)
		f = min(max(f, 0), 1)
		n := int(f * float64(barW))
		bar = strings.Repeat("█", n) + strings.Repeat("░", barW-n)
		pct = fmt.Sprintf(" %3.0f%%", f*100)
	} else {
		bar = strings.Repeat("░", barW)
		if p.Done > 0 {
			pct = fmt.Sprintf(" %d", p.Done)
		}
	}
	return theme.FitLine(" "+m.th.Accent.Render(bar)+pct+" "+p.Title, m.w)
}
