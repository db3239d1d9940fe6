package views

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/theme"
)

// fakeRepo serves a synthetic linear history and a few refs.
type fakeRepo struct {
	chain    []CommitInfo // head first
	calls    []int        // History page start indexes requested
	detached map[oid.Checksum]DetachedMeta
	refsErr  error
}

func sum(i int) oid.Checksum { return oid.Checksum(sha256.Sum256([]byte(fmt.Sprint(i)))) }

func newFake(n int) *fakeRepo {
	f := &fakeRepo{detached: map[oid.Checksum]DetachedMeta{}}
	base := time.Date(2023, 1, 2, 8, 0, 0, 0, time.UTC)
	for i := n - 1; i >= 0; i-- { // i = position from the root
		c := &object.Commit{
			Subject:   fmt.Sprintf("ExampleOS base x86_64 1.0.%d", i),
			Timestamp: uint64(base.Add(time.Duration(i) * 6 * time.Hour).Unix()),
			Metadata: []gvariant.DictEntry{
				{Key: "version", Value: gvariant.NewVariant("s", fmt.Sprintf("1.0.%d", i))},
				{Key: "exampleos.release", Value: gvariant.NewVariant("b", i%2 == 0)},
			},
			RootTree: sum(100000 + i), RootMeta: sum(200000),
		}
		if i > 0 {
			c.Parent = sum(i - 1)
			c.Body = "rebuilt core utilities"
		}
		f.chain = append(f.chain, CommitInfo{Checksum: sum(i), Commit: c})
	}
	f.detached[sum(n-1)] = DetachedMeta{{Key: "exampleos.signed-by", Value: gvariant.NewVariant("s", "release-key")}}
	return f
}

func (f *fakeRepo) Refs(context.Context) ([]RefInfo, error) {
	if f.refsErr != nil {
		return nil, f.refsErr
	}
	h := f.chain[0]
	return []RefInfo{
		{Name: "exampleos/x86_64/base", Checksum: h.Checksum, Commit: h.Commit},
		{Name: "exampleos/x86_64/devel", Checksum: f.chain[1].Checksum, Commit: f.chain[1].Commit},
		{Name: "origin:exampleos/x86_64/base", Kind: RefRemote, Checksum: f.chain[2].Checksum, Commit: f.chain[2].Commit},
		{Name: "exampleos/stable", Kind: RefAlias, AliasOf: "exampleos/x86_64/base", Checksum: h.Checksum, Commit: h.Commit},
	}, nil
}

func (f *fakeRepo) Resolve(_ context.Context, rev string) (oid.Checksum, error) {
	if rev == "exampleos/x86_64/base" {
		return f.chain[0].Checksum, nil
	}
	return oid.Checksum{}, fmt.Errorf("ref %s not found", rev)
}

func (f *fakeRepo) History(_ context.Context, from oid.Checksum, n int) ([]CommitInfo, error) {
	for i, c := range f.chain {
		if c.Checksum == from {
			f.calls = append(f.calls, i)
			return f.chain[i:min(i+n, len(f.chain))], nil
		}
	}
	return nil, fmt.Errorf("no commit %s", from)
}

func (f *fakeRepo) Detached(_ context.Context, c oid.Checksum) (DetachedMeta, error) {
	return f.detached[c], nil
}

// run executes cmd and feeds screen-internal results back into s, like the
// root would; it returns the messages meant for the root.
func run(s Screen, cmd tea.Cmd) (Screen, []tea.Msg) {
	var out []tea.Msg
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
		case OpenLogMsg, OpenTreeMsg, OpenDiffMsg, BackMsg, ErrorMsg, MarkMsg:
			out = append(out, msg)
		default:
			var next tea.Cmd
			s, next = s.Update(msg)
			queue = append(queue, next)
		}
	}
	return s, out
}

func press(s Screen, keys ...string) (Screen, []tea.Msg) {
	var all []tea.Msg
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "backspace":
			msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
		case "tab":
			msg = tea.KeyPressMsg{Code: tea.KeyTab}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		case "pgdown":
			msg = tea.KeyPressMsg{Code: tea.KeyPgDown}
		default:
			r := []rune(k)[0]
			msg = tea.KeyPressMsg{Code: r, Text: k}
		}
		var cmd tea.Cmd
		s, cmd = s.Update(msg)
		var out []tea.Msg
		s, out = run(s, cmd)
		all = append(all, out...)
	}
	return s, all
}

var sizes = []struct{ w, h int }{{80, 24}, {120, 40}}

func TestRefsGolden(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			var s Screen = NewRefs(newFake(5), theme.Plain())
			s.SetSize(sz.w, sz.h)
			s, _ = run(s, s.Init())
			s, _ = press(s, "j")
			golden.RequireEqual(t, s.View())
		})
	}
}

func TestRefsFilterGolden(t *testing.T) {
	var s Screen = NewRefs(newFake(5), theme.Plain())
	s.SetSize(80, 24)
	s, _ = run(s, s.Init())
	s, _ = press(s, "/", "o", "r", "i")
	golden.RequireEqual(t, s.View())
}

func TestLogGolden(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			var s Screen = NewLog(newFake(300), theme.Plain(), "exampleos/x86_64/base", oid.Checksum{})
			s.SetSize(sz.w, sz.h)
			s, _ = run(s, s.Init())
			golden.RequireEqual(t, s.View())
		})
	}
}

func TestLogLoadingRowGolden(t *testing.T) {
	s := NewLog(newFake(10), theme.Plain(), "exampleos/x86_64/base", sum(9))
	s.SetSize(80, 24)
	s.Init() // the page command is not run: the page is in flight
	if !s.Loading() {
		t.Fatal("not loading after Init")
	}
	golden.RequireEqual(t, s.View())
}

func TestRefsViewIsExactlyTheGivenSize(t *testing.T) {
	for _, sz := range sizes {
		var s Screen = NewRefs(newFake(5), theme.Plain())
		s.SetSize(sz.w, sz.h)
		s, _ = run(s, s.Init())
		lines := strings.Split(s.View(), "\n")
		if len(lines) != sz.h {
			t.Errorf("%dx%d: %d lines", sz.w, sz.h, len(lines))
		}
	}
}

func TestRefsEnterOpensLogOfSelectedRef(t *testing.T) {
	f := newFake(5)
	var s Screen = NewRefs(f, theme.Plain())
	s.SetSize(80, 24)
	s, _ = run(s, s.Init())
	_, out := press(s, "j", "j", "enter")
	want := OpenLogMsg{Ref: "origin:exampleos/x86_64/base", Commit: f.chain[2].Checksum}
	if len(out) != 1 || out[0] != want {
		t.Fatalf("got %#v, want %#v", out, want)
	}
}

func TestRefsFilterNarrowsAndEscClears(t *testing.T) {
	var s Screen = NewRefs(newFake(5), theme.Plain())
	s.SetSize(80, 24)
	s, _ = run(s, s.Init())
	s, _ = press(s, "/", "d", "e", "v")
	if !s.Capturing() {
		t.Fatal("filter typing should capture keys")
	}
	r := s.(*Refs)
	if len(r.shown) != 1 || r.all[r.shown[0]].Name != "exampleos/x86_64/devel" {
		t.Fatalf("filter dev shows %v", r.shown)
	}
	s, _ = press(s, "enter") // keep filter, stop typing
	if s.Capturing() || len(r.shown) != 1 {
		t.Fatalf("after enter: capturing %v, %d shown", s.Capturing(), len(r.shown))
	}
	s, out := press(s, "esc")
	if len(out) != 0 || len(r.shown) != 4 {
		t.Fatalf("esc should clear the filter first: out %v, %d shown", out, len(r.shown))
	}
	_, out = press(s, "esc")
	if len(out) != 1 || out[0] != (BackMsg{}) {
		t.Fatalf("second esc: %v, want BackMsg", out)
	}
}

func TestRefsLoadErrorBecomesErrorMsg(t *testing.T) {
	f := newFake(5)
	f.refsErr = errors.New("permission denied")
	var s Screen = NewRefs(f, theme.Plain())
	s.SetSize(80, 24)
	_, out := run(s, s.Init())
	if len(out) != 1 {
		t.Fatalf("got %v", out)
	}
	if e, ok := out[0].(ErrorMsg); !ok || !strings.Contains(e.Err.Error(), "permission denied") {
		t.Fatalf("got %#v", out[0])
	}
}

func TestRefsMouseClickSelectsAndSecondClickOpens(t *testing.T) {
	f := newFake(5)
	var s Screen = NewRefs(f, theme.Plain())
	s.SetSize(80, 24)
	s, _ = run(s, s.Init())
	click := tea.MouseClickMsg{X: 5, Y: 3, Button: tea.MouseLeft} // row 2 (under the heading)
	s, cmd := s.Update(click)
	s, out := run(s, cmd)
	if r, _ := s.(*Refs).Selected(); r.Name != "origin:exampleos/x86_64/base" || len(out) != 0 {
		t.Fatalf("first click selected %q (out %v)", r.Name, out)
	}
	s, cmd = s.Update(click)
	_, out = run(s, cmd)
	if len(out) != 1 || out[0].(OpenLogMsg).Ref != "origin:exampleos/x86_64/base" {
		t.Fatalf("second click: %v", out)
	}
}

func TestLogLoadsPagesLazilyNearTheEnd(t *testing.T) {
	f := newFake(450)
	var s Screen = NewLog(f, theme.Plain(), "exampleos/x86_64/base", oid.Checksum{})
	s.SetSize(80, 24)
	s, _ = run(s, s.Init())
	l := s.(*Log)
	if l.Len() != LogPageSize || len(f.calls) != 1 {
		t.Fatalf("after Init: %d commits, %d page calls; want one page of %d", l.Len(), len(f.calls), LogPageSize)
	}
	// Move near the end of the first page: the next page is asked for.
	for l.nav.Cursor < LogPageSize-30 {
		s, _ = press(s, "pgdown")
	}
	if l.Len() != 2*LogPageSize || f.calls[1] != LogPageSize {
		t.Fatalf("near the end: %d commits, calls %v", l.Len(), f.calls)
	}
	s, _ = press(s, "G")
	s, _ = press(s, "G")
	if l.Len() != 450 || !l.done {
		t.Fatalf("at the end: %d commits, done %v, calls %v", l.Len(), l.done, f.calls)
	}
	_, _ = press(s, "G")
	if len(f.calls) != 3 {
		t.Fatalf("history re-read after the end: %v", f.calls)
	}
}

func TestLogDoesNotRequestASecondPageWhileOneIsInFlight(t *testing.T) {
	f := newFake(450)
	s := NewLog(f, theme.Plain(), "", sum(449))
	s.SetSize(80, 24)
	cmd := s.Init()
	for range 5 {
		if _, c := s.Update(tea.KeyPressMsg{Code: 'G', Text: "G"}); c != nil {
			if _, ok := c().(LogPageMsg); ok {
				t.Fatal("second page requested while the first is in flight")
			}
		}
	}
	msg := cmd().(LogPageMsg)
	s.Update(msg)
	if s.Len() != LogPageSize {
		t.Fatalf("%d commits", s.Len())
	}
}

func TestLogDetailShowsDetachedMetadataAfterAsyncLoad(t *testing.T) {
	f := newFake(20)
	var s Screen = NewLog(f, theme.Plain(), "exampleos/x86_64/base", f.chain[0].Checksum)
	s.SetSize(120, 40)
	s, _ = run(s, s.Init())
	v := s.View()
	for _, want := range []string{"exampleos.signed-by: 'release-key'", "version: '1.0.19'", "exampleos.release: false", "Commit   " + f.chain[0].Checksum.String()[:40]} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	s, _ = press(s, "j")
	if v := s.View(); !strings.Contains(v, "(none)") {
		t.Errorf("second commit should show no detached metadata:\n%s", v)
	}
}

func TestLogEnterOpensTreeAndMarkThenDiff(t *testing.T) {
	f := newFake(20)
	var s Screen = NewLog(f, theme.Plain(), "exampleos/x86_64/base", f.chain[0].Checksum)
	s.SetSize(80, 24)
	s, _ = run(s, s.Init())
	s, out := press(s, "enter")
	if len(out) != 1 || out[0] != (OpenTreeMsg{Commit: f.chain[0].Checksum, Path: "/"}) {
		t.Fatalf("enter: %v", out)
	}
	s, out = press(s, "d")
	if len(out) != 1 {
		t.Fatalf("d without a mark should explain: %v", out)
	}
	if _, ok := out[0].(ErrorMsg); !ok {
		t.Fatalf("d without mark: %#v", out[0])
	}
	s, out = press(s, "m")
	mark := out[0].(MarkMsg)
	if mark.Commit != f.chain[0].Checksum {
		t.Fatalf("mark: %v", mark)
	}
	s, _ = s.Update(MarkedMsg(mark))
	_, out = press(s, "j", "j", "d")
	if len(out) != 1 || out[0] != (OpenDiffMsg{From: f.chain[0].Checksum, To: f.chain[2].Checksum}) {
		t.Fatalf("diff: %v", out)
	}
}

func TestLogFilterByVersion(t *testing.T) {
	f := newFake(50)
	var s Screen = NewLog(f, theme.Plain(), "exampleos/x86_64/base", f.chain[0].Checksum)
	s.SetSize(80, 24)
	s, _ = run(s, s.Init())
	s, _ = press(s, "/", "1", ".", "0", ".", "4", "2")
	l := s.(*Log)
	if len(l.shown) != 1 {
		t.Fatalf("filter 1.0.42: %d shown", len(l.shown))
	}
	if c, _ := l.Selected(); c.Version() != "1.0.42" {
		t.Fatalf("selected %s", c.Version())
	}
}

func TestLogUnknownRefReportsError(t *testing.T) {
	var s Screen = NewLog(newFake(5), theme.Plain(), "nope", oid.Checksum{})
	s.SetSize(80, 24)
	_, out := run(s, s.Init())
	if len(out) != 1 || !strings.Contains(out[0].(ErrorMsg).Err.Error(), "nope") {
		t.Fatalf("got %v", out)
	}
}

func TestLogResizeKeepsCursorVisible(t *testing.T) {
	f := newFake(100)
	var s Screen = NewLog(f, theme.Plain(), "exampleos/x86_64/base", f.chain[0].Checksum)
	s.SetSize(120, 40)
	s, _ = run(s, s.Init())
	s, _ = press(s, "pgdown", "pgdown")
	s.SetSize(80, 24)
	l := s.(*Log)
	if l.nav.Cursor < l.nav.Offset || l.nav.Cursor >= l.nav.Offset+l.nav.Height {
		t.Fatalf("cursor %d outside [%d,%d)", l.nav.Cursor, l.nav.Offset, l.nav.Offset+l.nav.Height)
	}
	if !strings.Contains(s.View(), "▸ "+l.commits[l.shown[l.nav.Cursor]].Checksum.String()[:10]) {
		t.Fatal("selected row not drawn after resize")
	}
}
