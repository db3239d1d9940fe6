package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/groveos/grove/core/demo"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/theme"
	"github.com/groveos/grove/views"
)

var demoPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "grove-tui-test-")
	if err != nil {
		panic(err)
	}
	demoPath, err = demo.Build(context.Background(), dir, nil)
	if err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newModel(t *testing.T, w, h int) *Model {
	t.Helper()
	r, err := repo.Open(context.Background(), demoPath)
	if err != nil {
		t.Fatal(err)
	}
	m := NewRoot(&Services{Repo: r, RepoPath: "demo/repo"}, theme.Plain())
	m.Now = func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	drive(t, m, m.Init())
	send(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// drive runs commands synchronously, feeding their messages back, like the
// bubbletea loop; it reports whether the program asked to quit.
func drive(t *testing.T, m *Model, cmd tea.Cmd) (quit bool) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			quit = true
		default:
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
	return quit
}

func send(t *testing.T, m *Model, msg tea.Msg) bool {
	t.Helper()
	_, cmd := m.Update(msg)
	return drive(t, m, cmd)
}

func keys(t *testing.T, m *Model, ks ...string) (quit bool) {
	t.Helper()
	for _, k := range ks {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "backspace":
			msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
		case "ctrl+c":
			msg = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
		default:
			msg = tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
		}
		quit = send(t, m, msg) || quit
	}
	return quit
}

var sizes = []struct{ w, h int }{{80, 24}, {120, 40}}

func TestRootGolden(t *testing.T) {
	for _, sz := range sizes {
		name := fmt.Sprintf("%dx%d", sz.w, sz.h)
		t.Run("refs/"+name, func(t *testing.T) {
			m := newModel(t, sz.w, sz.h)
			golden.RequireEqual(t, m.Render())
		})
		t.Run("help/"+name, func(t *testing.T) {
			m := newModel(t, sz.w, sz.h)
			keys(t, m, "?")
			golden.RequireEqual(t, m.Render())
		})
		t.Run("log/"+name, func(t *testing.T) {
			m := newModel(t, sz.w, sz.h)
			keys(t, m, "j", "j", "j", "enter")
			golden.RequireEqual(t, m.Render())
		})
		t.Run("banner-cmdlog-progress/"+name, func(t *testing.T) {
			m := newModel(t, sz.w, sz.h)
			send(t, m, views.CommandLogMsg{Cmd: "grove --repo=demo/repo commit -b test --subject=hello", Summary: "3f1a2b…"})
			send(t, m, views.CommandLogMsg{Cmd: "grove --repo=demo/repo prune --refs-only", Err: errors.New("repo locked")})
			send(t, m, views.ProgressMsg{ID: "x", Title: "Committing /src", Done: 40, Total: 100})
			send(t, m, views.ErrorMsg{Err: errors.New("opening /nope: no such file or directory")})
			keys(t, m) // nothing
			m.showLog = true
			m.layout()
			golden.RequireEqual(t, m.Render())
		})
	}
}

func TestRootRenderIsExactlyTheWindowSize(t *testing.T) {
	for _, sz := range sizes {
		m := newModel(t, sz.w, sz.h)
		for _, step := range [][]string{nil, {"?"}, {"?", "L"}, {"j", "enter"}} {
			keys(t, m, step...)
			lines := strings.Split(m.Render(), "\n")
			if len(lines) != sz.h {
				t.Errorf("%dx%d after %v: %d lines", sz.w, sz.h, step, len(lines))
			}
		}
	}
}

func TestErrorBannerIsDismissedByAnyKeyAndNeverQuits(t *testing.T) {
	m := newModel(t, 80, 24)
	send(t, m, views.ErrorMsg{Err: errors.New("boom")})
	if !strings.Contains(m.Render(), "boom") {
		t.Fatal("banner not shown")
	}
	if keys(t, m, "q") {
		t.Fatal("q while the banner shows must only dismiss it")
	}
	if m.Err() != nil || strings.Contains(m.Render(), "boom") {
		t.Fatal("banner not dismissed")
	}
	if !keys(t, m, "q") {
		t.Fatal("q should quit once the banner is gone")
	}
}

func TestHelpToggleAndEscClosesHelp(t *testing.T) {
	m := newModel(t, 120, 40)
	keys(t, m, "?")
	if !strings.Contains(m.Render(), "command log") {
		t.Fatal("full help lacks global keys")
	}
	keys(t, m, "esc")
	if m.fullHelp {
		t.Fatal("esc did not close help")
	}
	if len(m.Screens()) != 1 {
		t.Fatal("esc closing help also popped a screen")
	}
}

func TestRefsToLogAndBack(t *testing.T) {
	m := newModel(t, 120, 40)
	keys(t, m, "/")
	for _, r := range "x86_64/base" {
		keys(t, m, string(r))
	}
	if keys(t, m, "q") {
		t.Fatal("q typed into the filter quit the program")
	}
	keys(t, m, "backspace")
	keys(t, m, "esc") // clear filter
	keys(t, m, "/", "d", "e", "v", "e", "l", "enter", "enter")
	if len(m.Screens()) != 2 || !strings.Contains(m.Top().Title(), demo.BranchDevel) {
		t.Fatalf("stack %d, top %q", len(m.Screens()), m.Top().Title())
	}
	v := m.Render()
	if !strings.Contains(v, "version: '2.2.8'") || !strings.Contains(v, "exampleos.signed-by") {
		t.Fatalf("log detail lacks metadata:\n%s", v)
	}
	keys(t, m, "esc")
	if len(m.Screens()) != 1 {
		t.Fatal("esc did not go back")
	}
	keys(t, m, "esc") // on the last screen: stays
	if len(m.Screens()) != 1 {
		t.Fatal("esc popped the last screen")
	}
}

func TestResultsReachScreensBelowTheTop(t *testing.T) {
	m := newModel(t, 80, 24)
	refs := m.Top()
	// Push a log before the refs' reload result arrives: it must still land.
	reload := refs.(views.Refresher).Refresh()
	keys(t, m, "enter")
	drive(t, m, wrap(m.ids[0], reload))
	if len(m.Screens()) != 2 {
		t.Fatalf("stack %d", len(m.Screens()))
	}
	if !strings.Contains(m.Screens()[0].View(), demo.BranchBase) {
		t.Fatal("refs screen lost its reload")
	}
}

func TestMouseClickSelectsRefBelowHeader(t *testing.T) {
	m := newModel(t, 120, 40)
	// screen row 0 is the column heading; terminal row 0 is the header.
	send(t, m, tea.MouseClickMsg{X: 4, Y: 3, Button: tea.MouseLeft})
	send(t, m, tea.MouseClickMsg{X: 4, Y: 3, Button: tea.MouseLeft})
	if len(m.Screens()) != 2 || !strings.Contains(m.Top().Title(), demo.BranchToolsCmp) {
		t.Fatalf("click: top %q", m.Top().Title())
	}
	send(t, m, tea.MouseWheelMsg{X: 4, Y: 10, Button: tea.MouseWheelDown})
}

func TestRunActionShowsProgressThenLogsAndRefreshes(t *testing.T) {
	m := newModel(t, 100, 30)
	release := make(chan struct{})
	started := make(chan struct{})
	cmd := func() tea.Msg {
		return views.RunActionMsg{Title: "Pruning", Cmd: "grove --repo=demo/repo prune",
			Run: func(ctx context.Context, progress func(done, total int64)) (string, error) {
				progress(1, 4)
				close(started)
				<-release
				return "freed 0 objects", nil
			}}
	}
	_, c := m.Update(cmd())
	<-started
	if !strings.Contains(m.Render(), "Pruning") {
		t.Fatal("no progress bar while running")
	}
	close(release)
	drive(t, m, c)
	if len(m.Entries()) != 1 || m.Entries()[0].Cmd != "grove --repo=demo/repo prune" || m.Entries()[0].Summary != "freed 0 objects" {
		t.Fatalf("entries %+v", m.Entries())
	}
	if strings.Contains(m.Render(), "Pruning") {
		t.Fatal("progress bar left after the action")
	}
	keys(t, m, "L")
	if !strings.Contains(m.Render(), "12:00:00 ✓ grove --repo=demo/repo prune") {
		t.Fatalf("command log pane:\n%s", m.Render())
	}
}

func TestFailingActionShowsBannerAndLogsError(t *testing.T) {
	m := newModel(t, 100, 30)
	send(t, m, views.RunActionMsg{Title: "fsck", Cmd: "grove fsck",
		Run: func(context.Context, func(int64, int64)) (string, error) { return "", errors.New("corrupt object") }})
	if m.Err() == nil || !strings.Contains(m.Err().Error(), "corrupt object") {
		t.Fatalf("banner: %v", m.Err())
	}
	if len(m.Entries()) != 1 || m.Entries()[0].Err == nil {
		t.Fatalf("entries %+v", m.Entries())
	}
}

func TestUnavailableScreenIsAnErrorNotACrash(t *testing.T) {
	m := newModel(t, 80, 24)
	saved := openers
	openers = nil // no screen registered for any navigation message
	t.Cleanup(func() { openers = saved })
	send(t, m, views.OpenTreeMsg{Path: "/"})
	if m.Err() == nil {
		t.Fatal("no error for a missing screen")
	}
}

// TestProgramOverDemoRepo runs the real bubbletea program (teatest) on the
// demo repository: refs, a log, back, help, quit.
func TestProgramOverDemoRepo(t *testing.T) {
	r, err := repo.Open(context.Background(), demoPath)
	if err != nil {
		t.Fatal(err)
	}
	m := NewRoot(&Services{Repo: r, RepoPath: "demo/repo"}, theme.Plain())
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	wait := func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), s) },
			teatest.WithDuration(5*time.Second))
	}
	wait("exampleos/x86_64/composed")
	tm.Send(tea.KeyPressMsg{Code: 'j', Text: "j"})
	tm.Send(tea.KeyPressMsg{Code: 'j', Text: "j"})
	tm.Send(tea.KeyPressMsg{Code: 'j', Text: "j"})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	wait("Detached metadata")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.Send(tea.KeyPressMsg{Code: '?', Text: "?"})
	wait("command log")
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final := tm.FinalModel(t).(*Model)
	if len(final.Screens()) != 1 || !final.fullHelp {
		t.Fatalf("final: %d screens, help %v", len(final.Screens()), final.fullHelp)
	}
}

// TestActionsKeyOpensMenuFromEveryScreen: a (and :) opens the actions menu
// prefilled from the active screen, not from the menu itself nor a form.
func TestActionsKeyOpensMenuFromEveryScreen(t *testing.T) {
	m := newModel(t, 100, 30)
	keys(t, m, "j", "j", "j", "a") // refs: exampleos/x86_64/base
	a, ok := m.Top().(*views.Actions)
	if !ok || !strings.Contains(m.Render(), "selected: exampleos/x86_64/base") {
		t.Fatalf("refs: top %T\n%s", m.Top(), m.Render())
	}
	if !strings.Contains(m.Render(), "enter/1-7 choose") || strings.Contains(m.Render(), "a actions") {
		t.Fatalf("menu help:\n%s", m.Render())
	}
	keys(t, m, "a", ":")
	if m.Top() != a {
		t.Fatal("a on the menu opened another menu")
	}
	keys(t, m, "esc", "enter", "j", ":") // log, second commit
	if !strings.Contains(m.Render(), "selected: exampleos/x86_64/base 4c5f") && !strings.Contains(m.Render(), "selected: exampleos/x86_64/base ") {
		t.Fatalf("log:\n%s", m.Render())
	}
	keys(t, m, "esc", "enter", "enter") // tree → /etc
	keys(t, m, "a")
	if _, ok := m.Top().(*views.Actions); !ok {
		t.Fatalf("tree: top %T", m.Top())
	}
	keys(t, m, "1") // commit form: a is typed into the field
	keys(t, m, "a")
	if _, ok := m.Top().(*views.ActionForm); !ok || !strings.Contains(m.Render(), "Directory or tarball") {
		t.Fatalf("form: top %T\n%s", m.Top(), m.Render())
	}
}

// TestShortHelpAlwaysShowsGlobalKeys: at 80 columns the screen's own keys
// are cut, never "? help" and "q quit".
func TestShortHelpAlwaysShowsGlobalKeys(t *testing.T) {
	m := newModel(t, 80, 24)
	keys(t, m, "j", "j", "j", "enter", "enter") // tree
	lines := strings.Split(m.Render(), "\n")
	foot := lines[len(lines)-1]
	for _, w := range []string{"a actions", "? help", "q quit", "enter open"} {
		if !strings.Contains(foot, w) {
			t.Errorf("footer %q lacks %q", foot, w)
		}
	}
}

// TestHeaderKeepsBreadcrumbAndMarkWithALongRepoPath: the path shrinks (middle
// ellipsis, then goes) before the breadcrumb and the mark; at 80 columns
// the Refs table keeps a SUBJECT column.
func TestHeaderKeepsBreadcrumbAndMarkWithALongRepoPath(t *testing.T) {
	m := newModel(t, 80, 24)
	m.svc.RepoPath = "/srv/build/workspaces/exampleos/release-engineering/nightly/ostree/repo"
	head := func() string { return strings.SplitN(m.Render(), "\n", 2)[0] }
	if h := head(); !strings.Contains(h, "/srv/build/") || !strings.Contains(h, "…") || !strings.Contains(h, "/ostree/repo  Refs") {
		t.Fatalf("path not middle-cut: %q", h)
	}
	if !strings.Contains(m.Render(), "SUBJECT") || !strings.Contains(m.Render(), "component docs") {
		t.Fatalf("refs at 80 columns lost the subject:\n%s", m.Render())
	}
	keys(t, m, "j", "j", "j", "enter", "m", "j", "enter")
	h := head()
	for _, w := range []string{"Tree ", "marked: ", "@"} {
		if !strings.Contains(h, w) {
			t.Errorf("header %q lacks %q", h, w)
		}
	}
	if len([]rune(h)) != 80 {
		t.Errorf("header is %d columns", len([]rune(h)))
	}
}
