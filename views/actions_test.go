package views

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/groveos/grove/theme"
)

func openForm(t *testing.T, f *fakeFS, k ActionKind, ctx ActionContext, w, h int) Screen {
	t.Helper()
	var s Screen = NewActions(f, theme.Plain(), ctx)
	s.SetSize(w, h)
	s, out := keys(s, fmt.Sprint(int(k)+1))
	if len(out) != 0 {
		t.Fatalf("choosing %v: %v", k, out)
	}
	if _, ok := s.(*ActionForm); !ok {
		t.Fatalf("menu did not turn into a form: %T", s)
	}
	return s
}

func TestActionsMenuGolden(t *testing.T) {
	forSizes(t, func(t *testing.T, w, h int) {
		var s Screen = NewActions(newFakeFS(), theme.Plain(), ActionContext{Ref: "exampleos/x86_64/base", Commit: sum(3)})
		s.SetSize(w, h)
		s, _ = keys(s, "j")
		golden.RequireEqual(t, s.View())
	})
}

func TestActionFormGolden(t *testing.T) {
	ctx := ActionContext{Ref: "exampleos/x86_64/base", Commit: sum(3)}
	for k := ActCommit; k <= ActFsck; k++ {
		t.Run(strings.ReplaceAll(k.String(), " ", "_"), func(t *testing.T) {
			forSizes(t, func(t *testing.T, w, h int) {
				s := openForm(t, newFakeFS(), k, ctx, w, h)
				if k == ActCommit {
					s = typeText(s, "/srv/rootfs")
				}
				golden.RequireEqual(t, s.View())
			})
		})
	}
}

func TestActionConfirmGolden(t *testing.T) {
	ctx := ActionContext{Ref: "exampleos/x86_64/base", Commit: sum(3)}
	for _, k := range []ActionKind{ActReset, ActDeleteRef, ActPrune} {
		t.Run(strings.ReplaceAll(k.String(), " ", "_"), func(t *testing.T) {
			forSizes(t, func(t *testing.T, w, h int) {
				s := openForm(t, newFakeFS(), k, ctx, w, h)
				s, out := keys(s, "ctrl+s")
				if len(out) != 0 || !s.(*ActionForm).Confirming() {
					t.Fatalf("destructive action ran without confirmation: %v", out)
				}
				golden.RequireEqual(t, s.View())
			})
		})
	}
}

// The commit form: typing, moving between fields, submitting. The result
// is a RunActionMsg with the equivalent grove command line, plus BackMsg.
func TestCommitFormProducesRunActionWithCommandLine(t *testing.T) {
	f := newFakeFS()
	s := openForm(t, f, ActCommit, ActionContext{Ref: "exampleos/x86_64/base"}, 80, 24)
	if !s.Capturing() {
		t.Fatal("a focused text field must capture q and ?")
	}
	s = typeText(s, "/srv/root fs")
	s, _ = keys(s, "enter") // to branch (prefilled)
	s, _ = keys(s, "tab")   // to subject
	s = typeText(s, "Release 2.0")
	s, _ = keys(s, "tab", "tab") // to version
	s = typeText(s, "2.0")
	s, out := keys(s, "enter")
	if len(out) != 2 {
		t.Fatalf("submit: %v", out)
	}
	var run RunActionMsg
	back := false
	for _, m := range out {
		switch m := m.(type) {
		case RunActionMsg:
			run = m
		case BackMsg:
			back = true
		}
	}
	want := "grove --repo=/srv/repo commit --branch=exampleos/x86_64/base '--subject=Release 2.0' --add-metadata-string=version=2.0 '/srv/root fs'"
	if run.Cmd != want || !back {
		t.Fatalf("cmd %q (back %v), want %q", run.Cmd, back, want)
	}
	if _, err := run.Run(context.Background(), func(int64, int64) {}); err != nil {
		t.Fatal(err)
	}
	r := f.ran[0]
	if r.Source != "/srv/root fs" || r.Tar || r.Subject != "Release 2.0" || r.Version != "2.0" || r.Branch != "exampleos/x86_64/base" {
		t.Fatalf("request %+v", r)
	}
	_ = s
}

func TestFormRequiresFieldsAndEscCancels(t *testing.T) {
	s := openForm(t, newFakeFS(), ActCommit, ActionContext{}, 80, 24)
	s, out := keys(s, "ctrl+s")
	if len(out) != 0 || !strings.Contains(s.View(), "Directory or tarball is required") {
		t.Fatalf("empty form submitted: %v\n%s", out, s.View())
	}
	_, out = keys(s, "esc")
	if len(out) != 1 || out[0] != (BackMsg{}) {
		t.Fatalf("esc: %v", out)
	}
}

func TestConfirmNoCancelsYesRuns(t *testing.T) {
	f := newFakeFS()
	s := openForm(t, f, ActDeleteRef, ActionContext{Ref: "exampleos/x86_64/devel"}, 80, 24)
	s, _ = keys(s, "enter")
	if !s.(*ActionForm).Confirming() || s.Capturing() {
		t.Fatal("enter should ask for confirmation (and stop capturing)")
	}
	s, out := keys(s, "n")
	if len(out) != 0 || s.(*ActionForm).Confirming() {
		t.Fatalf("n: %v", out)
	}
	s, _ = keys(s, "enter")
	_, out = keys(s, "y")
	var cmd string
	for _, m := range out {
		if r, ok := m.(RunActionMsg); ok {
			cmd = r.Cmd
		}
	}
	if cmd != "grove --repo=/srv/repo refs --delete exampleos/x86_64/devel" {
		t.Fatalf("y: %q %v", cmd, out)
	}
}

func TestCommandLines(t *testing.T) {
	for _, c := range []struct {
		req  ActionRequest
		want string
	}{
		{ActionRequest{Kind: ActCommit, Source: "/t/root.tar.gz", Tar: true, Branch: "b", Subject: "s", Body: "it's"},
			`grove --repo=/r commit --branch=b --subject=s '--body=it'\''s' --tree=tar=/t/root.tar.gz`},
		{ActionRequest{Kind: ActUnion, Refs: []string{"a", "c"}, Branch: "u", Subject: "union"},
			"grove --repo=/r commit --branch=u --subject=union --tree=ref=a --tree=ref=c"},
		{ActionRequest{Kind: ActCheckout, Commit: "abc", Dest: "/tmp/co", User: true}, "grove --repo=/r checkout -U abc /tmp/co"},
		{ActionRequest{Kind: ActReset, Ref: "b", Commit: "b^"}, "grove --repo=/r reset b 'b^'"},
		{ActionRequest{Kind: ActPrune, RefsOnly: true, Depth: -1}, "grove --repo=/r prune --refs-only --depth=-1"},
		{ActionRequest{Kind: ActFsck}, "grove --repo=/r fsck"},
	} {
		if got := CommandLine("/r", c.req); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestUnionAndPruneForms(t *testing.T) {
	f := newFakeFS()
	s := openForm(t, f, ActUnion, ActionContext{Ref: "a/base"}, 80, 24)
	s = typeText(s, " a/tools")
	s, _ = keys(s, "tab")
	s = typeText(s, "a/composed")
	s, _ = keys(s, "tab")
	s = typeText(s, "Compose")
	_, out := keys(s, "ctrl+s")
	if r, ok := out[1].(RunActionMsg); !ok || r.Cmd != "grove --repo=/srv/repo commit --branch=a/composed --subject=Compose --tree=ref=a/base --tree=ref=a/tools" {
		t.Fatalf("%v", out)
	}

	s = openForm(t, f, ActPrune, ActionContext{}, 80, 24)
	if s.Capturing() {
		t.Fatal("a toggle field does not capture")
	}
	s, _ = keys(s, "space", "tab", "backspace", "backspace")
	s = typeText(s, "2")
	_, _ = keys(s, "ctrl+s", "y")
	if r := f.ran; len(r) != 0 {
		t.Fatal("ran before the command was executed")
	}
	_, out = keys(openForm(t, f, ActFsck, ActionContext{}, 80, 24), "enter")
	if r, ok := out[1].(RunActionMsg); !ok || r.Cmd != "grove --repo=/srv/repo fsck" {
		t.Fatalf("fsck: %v", out)
	}
}

func TestScreensReportWhatIsSelectedForActions(t *testing.T) {
	var tree Screen = NewTree(newFakeFS(), theme.Plain(), sum(4), "/")
	tree.SetSize(80, 24)
	tree, _ = drive(tree, tree.Init())
	if c := tree.(ActionContexter).ActionContext(); c.Commit != sum(4) {
		t.Fatalf("tree context %+v", c)
	}

	f := newFake(5)
	var refs Screen = NewRefs(f, theme.Plain())
	refs.SetSize(80, 24)
	refs, _ = run(refs, refs.Init())
	refs, _ = press(refs, "j")
	if c := refs.(ActionContexter).ActionContext(); c.Ref != "exampleos/x86_64/devel" || c.Commit != f.chain[1].Checksum {
		t.Fatalf("refs context %+v", c)
	}

	var log Screen = NewLog(f, theme.Plain(), "exampleos/x86_64/base", sum(4))
	log.SetSize(80, 24)
	log, _ = run(log, log.Init())
	log, _ = press(log, "j", "j")
	if c := log.(ActionContexter).ActionContext(); c.Ref != "exampleos/x86_64/base" || c.Commit != f.chain[2].Checksum {
		t.Fatalf("log context %+v", c)
	}
}
