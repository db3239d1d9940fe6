package views

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/theme"
)

// ActionContext is what the active screen has selected, used to prefill
// action forms (a ref, a commit).
type ActionContext struct {
	Ref    string
	Commit oid.Checksum
}

// ActionContexter is implemented by screens that can say what is selected.
type ActionContexter interface {
	ActionContext() ActionContext
}

// ActionKind names one of the actions of the menu.
type ActionKind int

// The actions, in menu order.
const (
	ActCommit ActionKind = iota
	ActUnion
	ActCheckout
	ActReset
	ActDeleteRef
	ActPrune
	ActFsck
)

var actionNames = [...]string{"Commit a directory or tarball", "Union refs into a new branch",
	"Check out a commit", "Reset a ref", "Delete a ref", "Prune", "Fsck"}

var actionHelp = [...]string{
	"write a directory or tar archive as a new commit on a branch",
	"overlay several refs' trees, in order, into one commit",
	"write a commit's files into a new directory",
	"point a ref at another (earlier) commit",
	"remove a ref (its commits stay until pruned)",
	"delete objects no ref reaches",
	"verify every object's checksum",
}

func (k ActionKind) String() string { return actionNames[k] }

// Destructive actions ask for confirmation.
func (k ActionKind) Destructive() bool {
	return k == ActReset || k == ActDeleteRef || k == ActPrune
}

// ActionRequest is a filled-in action form.
type ActionRequest struct {
	Kind ActionKind
	// Commit: Source is a directory, or a tarball when Tar.
	Source string
	Tar    bool
	// Commit and union: the branch written.
	Branch                 string
	Subject, Body, Version string
	// Union: the refs whose trees are overlaid, in order.
	Refs []string
	// Checkout and reset: the commit (any rev).
	Commit string
	// Reset and delete: the ref.
	Ref string
	// Checkout: the new directory, and -U.
	Dest string
	User bool
	// Prune: --refs-only and --depth.
	RefsOnly bool
	Depth    int
	// Timestamp, when set, pins the commit time (tests).
	Timestamp time.Time
}

// ActionFunc does an action's work (see RunActionMsg.Run).
type ActionFunc func(ctx context.Context, progress func(done, total int64)) (summary string, err error)

// ActionSource runs actions; tui/ implements it over core/*. ActionRun only
// builds the function: the root calls it in the background.
type ActionSource interface {
	ActionRepoPath() string
	ActionRun(req ActionRequest) ActionFunc
}

var safeArg = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)

// shellQuote quotes s for a POSIX shell when needed.
func shellQuote(s string) string {
	if safeArg.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// IsTarball guesses from the name that a commit source is a tar archive.
func IsTarball(p string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tar.bz2", ".tbz2"} {
		if strings.HasSuffix(strings.ToLower(p), ext) {
			return true
		}
	}
	return false
}

// CommandLine is the grove command equivalent to req, for the command log.
func CommandLine(repoPath string, req ActionRequest) string {
	a := []string{"grove", "--repo=" + repoPath}
	switch req.Kind {
	case ActCommit, ActUnion:
		a = append(a, "commit", "--branch="+req.Branch, "--subject="+req.Subject)
		if req.Body != "" {
			a = append(a, "--body="+req.Body)
		}
		if req.Version != "" {
			a = append(a, "--add-metadata-string=version="+req.Version)
		}
		if !req.Timestamp.IsZero() {
			a = append(a, "--timestamp="+req.Timestamp.UTC().Format(time.RFC3339))
		}
		if req.Kind == ActUnion {
			for _, r := range req.Refs {
				a = append(a, "--tree=ref="+r)
			}
		} else if req.Tar {
			a = append(a, "--tree=tar="+req.Source)
		} else {
			a = append(a, req.Source)
		}
	case ActCheckout:
		a = append(a, "checkout")
		if req.User {
			a = append(a, "-U")
		}
		a = append(a, req.Commit, req.Dest)
	case ActReset:
		a = append(a, "reset", req.Ref, req.Commit)
	case ActDeleteRef:
		a = append(a, "refs", "--delete", req.Ref)
	case ActPrune:
		a = append(a, "prune")
		if req.RefsOnly {
			a = append(a, "--refs-only")
		}
		a = append(a, "--depth="+strconv.Itoa(req.Depth))
	case ActFsck:
		a = append(a, "fsck")
	}
	for i := range a {
		a[i] = shellQuote(a[i])
	}
	return strings.Join(a, " ")
}

// ActionsKey is the binding that opens the actions menu; the root handles
// it on every screen that is not capturing text.
func ActionsKey() key.Binding { return actionsKey() }

func actionsKey() key.Binding {
	return key.NewBinding(key.WithKeys("a", ":"), key.WithHelp("a", "actions"))
}

// OpenActions returns a command opening the actions menu when src can run
// actions (tui.Services does), prefilled from ctx.
func OpenActions(src any, th *theme.Theme, ctx ActionContext) tea.Cmd {
	as, ok := src.(ActionSource)
	if !ok {
		return nil
	}
	return func() tea.Msg { return OpenScreenMsg{Screen: NewActions(as, th, ctx)} }
}

// ActionsKeys is the actions menu's key map.
type ActionsKeys struct {
	Up, Down, Open, Back key.Binding
}

// ShortHelp implements help.KeyMap.
func (k ActionsKeys) ShortHelp() []key.Binding { return []key.Binding{k.Open, k.Up, k.Down, k.Back} }

// FullHelp implements help.KeyMap.
func (k ActionsKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// Actions is the actions menu; choosing one replaces it by its form.
type Actions struct {
	src  ActionSource
	th   *theme.Theme
	keys ActionsKeys
	ctx  ActionContext
	nav  ListNav
	w, h int
}

// NewActions returns the actions menu.
func NewActions(src ActionSource, th *theme.Theme, ctx ActionContext) *Actions {
	n := DefaultNavKeys()
	return &Actions{src: src, th: th, ctx: ctx, nav: ListNav{N: len(actionNames)},
		keys: ActionsKeys{Up: n.Up, Down: n.Down, Back: n.Back,
			Open: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter/1-7", "choose"))}}
}

// Init implements Screen.
func (s *Actions) Init() tea.Cmd { return nil }

// Title implements Screen.
func (s *Actions) Title() string { return "Actions" }

// KeyMap implements Screen.
func (s *Actions) KeyMap() help.KeyMap { return s.keys }

// Capturing implements Screen.
func (s *Actions) Capturing() bool { return false }

// SetSize implements Screen.
func (s *Actions) SetSize(w, h int) {
	s.w, s.h = w, h
	s.nav.Height = max(h-2, 1)
	s.nav.Clamp()
}

// Update implements Screen.
func (s *Actions) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, s.keys.Up):
			s.nav.Move(-1)
		case key.Matches(msg, s.keys.Down):
			s.nav.Move(1)
		case key.Matches(msg, s.keys.Back):
			return s, backCmd
		case key.Matches(msg, s.keys.Open):
			return s.choose(ActionKind(s.nav.Cursor))
		default:
			if n, err := strconv.Atoi(msg.Text); err == nil && n >= 1 && n <= len(actionNames) {
				return s.choose(ActionKind(n - 1))
			}
		}
	case tea.MouseClickMsg:
		if y := msg.Mouse().Y - 2; y >= 0 && y < len(actionNames) {
			if y == s.nav.Cursor {
				return s.choose(ActionKind(y))
			}
			s.nav.Cursor = y
		}
	}
	return s, nil
}

func (s *Actions) choose(k ActionKind) (Screen, tea.Cmd) {
	f := NewActionForm(s.src, s.th, k, s.ctx)
	f.SetSize(s.w, s.h)
	return f, f.Init()
}

// View implements Screen.
func (s *Actions) View() string {
	if s.w <= 0 || s.h <= 0 {
		return ""
	}
	lines := []string{s.th.Column.Render("Actions"), ""}
	for i, n := range actionNames {
		l := fmt.Sprintf("%d  %-30s %s", i+1, n, s.th.Dim.Render(actionHelp[i]))
		if i == s.nav.Cursor {
			lines = append(lines, s.th.Selected.Render(theme.FitLine("▸ "+l, s.w)))
		} else {
			lines = append(lines, "  "+l)
		}
	}
	if s.ctx.Ref != "" || !s.ctx.Commit.IsZero() {
		lines = append(lines, "", s.th.Dim.Render("  selected: "+strings.TrimSpace(s.ctx.Ref+" "+shortOrEmpty(s.ctx.Commit))))
	}
	return theme.Fit(strings.Join(lines, "\n"), s.w, s.h)
}

func shortOrEmpty(c oid.Checksum) string {
	if c.IsZero() {
		return ""
	}
	return c.Short()
}
