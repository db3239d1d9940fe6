package views

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/theme"
)

// formField is one line of an action form: a text input or a yes/no toggle.
type formField struct {
	name     string // request field it fills
	label    string
	hint     string
	required bool
	toggle   bool
	on       bool
	input    lineInput
}

// FormKeys is an action form's key map.
type FormKeys struct {
	Next, Prev, Submit, Toggle, Cancel, Yes, No key.Binding
}

// ShortHelp implements help.KeyMap.
func (k FormKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Next, k.Submit, k.Toggle, k.Cancel}
}

// FullHelp implements help.KeyMap.
func (k FormKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Next, k.Prev, k.Submit, k.Toggle, k.Cancel}, {k.Yes, k.No}}
}

// ActionForm is the small form of one action, with a confirmation step for
// destructive actions. Submitting sends RunActionMsg and closes the form.
type ActionForm struct {
	src        ActionSource
	th         *theme.Theme
	keys       FormKeys
	kind       ActionKind
	fields     []*formField
	focus      int
	confirming bool
	err        string
	w, h       int
}

// NewActionForm returns the form of action k, prefilled from ctx.
func NewActionForm(src ActionSource, th *theme.Theme, k ActionKind, ctx ActionContext) *ActionForm {
	f := &ActionForm{src: src, th: th, kind: k, keys: FormKeys{
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous")),
		Submit: key.NewBinding(key.WithKeys("ctrl+s", "enter"), key.WithHelp("enter", "next / run")),
		Toggle: key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "toggle")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		Yes:    key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y", "confirm")),
		No:     key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
	}}
	commit := ctx.Ref
	if !ctx.Commit.IsZero() {
		commit = ctx.Commit.String()
	}
	text := func(name, label, value, hint string, required bool) {
		f.fields = append(f.fields, &formField{name: name, label: label, hint: hint, required: required, input: newInput(value)})
	}
	toggle := func(name, label string, on bool, hint string) {
		f.fields = append(f.fields, &formField{name: name, label: label, toggle: true, on: on, hint: hint})
	}
	switch k {
	case ActCommit:
		text("source", "Directory or tarball", "", "a directory, or a .tar[.gz|.xz|.zst|.bz2] file", true)
		text("branch", "Branch", ctx.Ref, "parent: the branch's current commit", true)
		text("subject", "Subject", "", "", true)
		text("body", "Body", "", "optional", false)
		text("version", "Version", "", "optional: the version metadata", false)
	case ActUnion:
		text("refs", "Refs (in order)", ctx.Ref, "space-separated; later trees win", true)
		text("branch", "New branch", "", "", true)
		text("subject", "Subject", "", "", true)
		text("version", "Version", "", "optional", false)
	case ActCheckout:
		text("commit", "Commit", commit, "checksum or ref", true)
		text("dest", "Directory", "", "must not exist yet", true)
		toggle("user", "User mode (-U)", true, "no chown, no xattrs")
	case ActReset:
		text("ref", "Ref", ctx.Ref, "", true)
		text("commit", "To commit", commit, "checksum or rev", true)
	case ActDeleteRef:
		text("ref", "Ref", ctx.Ref, "", true)
	case ActPrune:
		toggle("refs-only", "Refs only", true, "only what refs reach is kept")
		text("depth", "Depth", "-1", "parents kept per ref; -1 = all", true)
	case ActFsck:
	}
	if len(f.fields) > 0 && !f.fields[0].toggle {
		f.fields[0].input.Focus()
	}
	return f
}

// Init implements Screen.
func (f *ActionForm) Init() tea.Cmd { return nil }

// Title implements Screen.
func (f *ActionForm) Title() string { return f.kind.String() }

// KeyMap implements Screen.
func (f *ActionForm) KeyMap() help.KeyMap { return f.keys }

// Capturing implements Screen: typing goes to the fields (not while confirming).
func (f *ActionForm) Capturing() bool {
	return !f.confirming && f.focus < len(f.fields) && !f.fields[f.focus].toggle
}

// SetSize implements Screen.
func (f *ActionForm) SetSize(w, h int) { f.w, f.h = w, h }

// Confirming reports the confirmation dialog is shown.
func (f *ActionForm) Confirming() bool { return f.confirming }

func (f *ActionForm) setFocus(i int) {
	if len(f.fields) == 0 {
		return
	}
	i = (i + len(f.fields)) % len(f.fields)
	f.fields[f.focus].input.Blur()
	f.focus = i
	if !f.fields[i].toggle {
		f.fields[i].input.Focus()
		f.fields[i].input.CursorEnd()
	}
}

func (f *ActionForm) value(name string) string {
	for _, fl := range f.fields {
		if fl.name == name {
			return strings.TrimSpace(fl.input.Value())
		}
	}
	return ""
}

func (f *ActionForm) on(name string) bool {
	for _, fl := range f.fields {
		if fl.name == name {
			return fl.on
		}
	}
	return false
}

// Request builds the request from the fields, checking required ones.
func (f *ActionForm) Request() (ActionRequest, error) {
	for _, fl := range f.fields {
		if fl.required && !fl.toggle && strings.TrimSpace(fl.input.Value()) == "" {
			return ActionRequest{}, fmt.Errorf("%s is required", fl.label)
		}
	}
	req := ActionRequest{Kind: f.kind, Source: f.value("source"), Branch: f.value("branch"),
		Subject: f.value("subject"), Body: f.value("body"), Version: f.value("version"),
		Commit: f.value("commit"), Ref: f.value("ref"), Dest: f.value("dest"),
		User: f.on("user"), RefsOnly: f.on("refs-only")}
	req.Tar = req.Kind == ActCommit && IsTarball(req.Source)
	if r := f.value("refs"); r != "" {
		req.Refs = strings.Fields(r)
	}
	for _, b := range []string{req.Branch} {
		if b != "" {
			if err := oid.ValidateRef(b); err != nil {
				return req, fmt.Errorf("invalid branch %q: %w", b, err)
			}
		}
	}
	if f.kind == ActPrune {
		d, err := strconv.Atoi(f.value("depth"))
		if err != nil || d < -1 {
			return req, errors.New("depth must be a number ≥ -1")
		}
		req.Depth = d
	}
	return req, nil
}

// submit validates, asks for confirmation if needed, then runs.
func (f *ActionForm) submit() tea.Cmd {
	req, err := f.Request()
	if err != nil {
		f.err = err.Error()
		return nil
	}
	f.err = ""
	if f.kind.Destructive() && !f.confirming {
		f.confirming = true
		return nil
	}
	msg := f.RunMsg(req)
	return tea.Batch(backCmd, func() tea.Msg { return msg })
}

// RunMsg is the RunActionMsg for req.
func (f *ActionForm) RunMsg(req ActionRequest) RunActionMsg {
	title := f.kind.String()
	switch req.Kind {
	case ActCommit:
		title = "Committing " + req.Source + " onto " + req.Branch
	case ActUnion:
		title = "Composing " + strings.Join(req.Refs, " + ") + " into " + req.Branch
	case ActCheckout:
		title = "Checking out " + req.Commit + " to " + req.Dest
	case ActReset:
		title = "Resetting " + req.Ref + " to " + req.Commit
	case ActDeleteRef:
		title = "Deleting ref " + req.Ref
	case ActPrune:
		title = "Pruning"
	case ActFsck:
		title = "Checking the repository"
	}
	return RunActionMsg{Title: title, Cmd: CommandLine(f.src.ActionRepoPath(), req), Run: f.src.ActionRun(req)}
}

// Update implements Screen.
func (f *ActionForm) Update(msg tea.Msg) (Screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return f, nil
	}
	if f.confirming {
		switch {
		case key.Matches(km, f.keys.Yes):
			return f, f.submit()
		case key.Matches(km, f.keys.No):
			f.confirming = false
		}
		return f, nil
	}
	switch {
	case key.Matches(km, f.keys.Cancel):
		return f, backCmd
	case key.Matches(km, f.keys.Next):
		f.setFocus(f.focus + 1)
		return f, nil
	case key.Matches(km, f.keys.Prev):
		f.setFocus(f.focus - 1)
		return f, nil
	case km.String() == "ctrl+s":
		return f, f.submit()
	case key.Matches(km, f.keys.Submit):
		if f.focus < len(f.fields)-1 {
			f.setFocus(f.focus + 1)
			return f, nil
		}
		return f, f.submit()
	}
	if len(f.fields) == 0 {
		return f, nil
	}
	fl := f.fields[f.focus]
	if fl.toggle {
		switch km.String() {
		case "space", "y", "n":
			fl.on = km.String() == "y" || (km.String() == "space" && !fl.on)
		}
		return f, nil
	}
	fl.input.Update(km)
	return f, nil
}

// View implements Screen.
func (f *ActionForm) View() string {
	if f.w <= 0 || f.h <= 0 {
		return ""
	}
	lines := []string{f.th.Column.Render(f.kind.String()), ""}
	lw := 22
	for i, fl := range f.fields {
		marker := "  "
		if i == f.focus && !f.confirming {
			marker = "▸ "
		}
		var val string
		if fl.toggle {
			val = "[ ]"
			if fl.on {
				val = "[x]"
			}
		} else {
			v := []rune(fl.input.Value())
			if fl.input.Focused() && !f.confirming {
				p := min(fl.input.Position(), len(v))
				val = string(v[:p]) + "▏" + string(v[p:])
			} else {
				val = string(v)
			}
		}
		l := marker + f.th.Label.Render(fmt.Sprintf("%-*s", lw, fl.label)) + " " + val
		if fl.hint != "" && i == f.focus {
			l += "  " + f.th.Dim.Render(fl.hint)
		}
		lines = append(lines, l)
	}
	if len(f.fields) == 0 {
		lines = append(lines, "  Press enter to run.")
	}
	if f.err != "" {
		lines = append(lines, "", f.th.Error.Render(" "+f.err+" "))
	}
	cmd := "(incomplete)"
	if req, err := f.Request(); err == nil {
		cmd = CommandLine(f.src.ActionRepoPath(), req)
	}
	lines = append(lines, "", f.th.Dim.Render("  $ "+cmd))
	if f.confirming {
		lines = append(append(lines, ""), f.confirmBox()...)
	}
	return theme.Fit(strings.Join(lines, "\n"), f.w, f.h)
}

func (f *ActionForm) confirmBox() []string {
	q := "Really " + strings.ToLower(f.kind.String()) + "?"
	req, _ := f.Request()
	switch f.kind {
	case ActReset:
		q = fmt.Sprintf("Really reset %s to %s?", req.Ref, req.Commit)
	case ActDeleteRef:
		q = fmt.Sprintf("Really delete ref %s?", req.Ref)
	case ActPrune:
		q = "Really prune? Unreachable objects are deleted for good."
	}
	w := min(max(len([]rune(q))+4, 30), max(f.w-4, 10))
	border := f.th.Border.Render
	top := "  " + border("┌"+strings.Repeat("─", w)+"┐")
	mid := func(s string) string {
		return "  " + border("│") + theme.FitLine("  "+s, w) + border("│")
	}
	bottom := "  " + border("└"+strings.Repeat("─", w)+"┘")
	return []string{top, mid(f.th.Error.Render(q)), mid("y / enter: yes     n / esc: no"), bottom}
}
