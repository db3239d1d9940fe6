package views

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/theme"
)

// TreeEntry is one name in a commit's directory, with what `ostree ls`
// shows about it.
type TreeEntry struct {
	Name string
	Path string // absolute inside the commit
	// Mode is the full st_mode (type bits included).
	Mode     uint32
	UID, GID uint32
	Size     int64  // payload size of regular files
	Target   string // symlink target
	Xattrs   []object.Xattr
	// Checksum is the content object of a file, or the dirmeta of a directory.
	Checksum oid.Checksum
	// Tree is the dirtree of a directory (zero for files).
	Tree oid.Checksum
}

// IsDir reports a directory entry.
func (e TreeEntry) IsDir() bool { return e.Mode&object.ModeType == object.ModeDir }

// IsSymlink reports a symbolic link.
func (e TreeEntry) IsSymlink() bool { return e.Mode&object.ModeType == object.ModeLink }

// ModeString formats the mode like `ostree ls`: "d00755", "-00644", "l00777".
func (e TreeEntry) ModeString() string {
	c := byte('?')
	switch e.Mode & object.ModeType {
	case object.ModeDir:
		c = 'd'
	case object.ModeReg:
		c = '-'
	case object.ModeLink:
		c = 'l'
	}
	return fmt.Sprintf("%c0%04o", c, e.Mode&^object.ModeType)
}

// XattrsText renders extended attributes as name=value, non-printable bytes
// escaped (values are often binary, e.g. security.capability).
func XattrsText(xs []object.Xattr) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		v := strings.TrimSuffix(string(x.Value), "\x00")
		parts[i] = x.Name + "=" + strings.Trim(strconv.QuoteToASCII(v), `"`)
	}
	return strings.Join(parts, " ")
}

// TreeSource lists a directory of a commit.
type TreeSource interface {
	// ReadDir returns the entries of dir (absolute, "/" for the root) in any order.
	ReadDir(ctx context.Context, commit oid.Checksum, dir string) ([]TreeEntry, error)
}

// TreeKeys is the Tree screen's key map.
type TreeKeys struct {
	NavKeys
	Up1, Mark, Diff key.Binding
}

// ShortHelp implements help.KeyMap.
func (k TreeKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Up1, k.Filter, k.Mark, k.Diff}
}

// FullHelp implements help.KeyMap.
func (k TreeKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Open, k.Up1, k.Filter, k.Back, k.Mark, k.Diff},
	}
}

// TreeLoadedMsg is one directory listing (exported for tests).
type TreeLoadedMsg struct {
	Dir     string
	Entries []TreeEntry
	Err     error
}

// treeLinkMsg answers a symlink opened in the tree: the target directory's
// listing when it is one, else the file to open.
type treeLinkMsg struct {
	dir   TreeLoadedMsg
	file  OpenFileMsg
	isDir bool
}

// Tree browses one commit's tree, a directory at a time.
type Tree struct {
	src     TreeSource
	th      *theme.Theme
	keys    TreeKeys
	commit  oid.Checksum
	dir     string
	w, h    int
	entries []TreeEntry
	shown   []int
	nav     ListNav
	filter  Filter
	loading bool
	loaded  bool
	marked  oid.Checksum
	// back remembers the cursor of each directory above, so going up
	// returns to the entry we came from.
	back map[string]string
	want string // entry to select once dir is loaded
}

// NewTree returns the tree browser of commit, opened at dir ("" or "/": root).
func NewTree(src TreeSource, th *theme.Theme, commit oid.Checksum, dir string) *Tree {
	k := TreeKeys{NavKeys: DefaultNavKeys(),
		Up1:  key.NewBinding(key.WithKeys("backspace", "h", "left"), key.WithHelp("h/⌫", "parent dir")),
		Mark: key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mark commit")),
		Diff: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "diff vs marked")),
	}
	k.Open.SetKeys("enter", "l", "right")
	return &Tree{src: src, th: th, keys: k, commit: commit, dir: cleanDir(dir), back: map[string]string{}}
}

func cleanDir(d string) string {
	if d == "" {
		return "/"
	}
	return path.Clean("/" + d)
}

// Init implements Screen.
func (s *Tree) Init() tea.Cmd { return s.load(s.dir) }

func (s *Tree) load(dir string) tea.Cmd {
	s.loading = true
	src, c := s.src, s.commit
	return func() tea.Msg {
		es, err := src.ReadDir(context.Background(), c, dir)
		return TreeLoadedMsg{Dir: dir, Entries: es, Err: err}
	}
}

// Dir is the directory shown.
func (s *Tree) Dir() string { return s.dir }

// Title implements Screen.
func (s *Tree) Title() string { return "Tree " + s.commit.Short() + ":" + s.dir }

// KeyMap implements Screen.
func (s *Tree) KeyMap() help.KeyMap { return s.keys }

// Capturing implements Screen.
func (s *Tree) Capturing() bool { return s.filter.Active }

// ActionContext implements ActionContexter: the commit browsed.
func (s *Tree) ActionContext() ActionContext {
	return ActionContext{Commit: s.commit}
}

const treeDetailLines = 4

func (s *Tree) filterLines() int {
	if s.filter.Active || s.filter.Text != "" {
		return 1
	}
	return 0
}

func (s *Tree) listHeight() int { return max(s.h-1-s.filterLines()-1-treeDetailLines, 1) }

// SetSize implements Screen.
func (s *Tree) SetSize(w, h int) {
	s.w, s.h = w, h
	s.nav.Height = s.listHeight()
	s.nav.Clamp()
}

// Selected returns the entry under the cursor.
func (s *Tree) Selected() (TreeEntry, bool) {
	if s.nav.Cursor < 0 || s.nav.Cursor >= len(s.shown) {
		return TreeEntry{}, false
	}
	return s.entries[s.shown[s.nav.Cursor]], true
}

func (s *Tree) applyFilter(keep string) {
	s.shown = s.shown[:0]
	for i, e := range s.entries {
		if s.filter.Match(e.Name, e.Target) {
			s.shown = append(s.shown, i)
		}
	}
	s.nav.N = len(s.shown)
	s.nav.Height = s.listHeight()
	s.nav.Cursor = 0
	for i, idx := range s.shown {
		if s.entries[idx].Name == keep {
			s.nav.Cursor = i
		}
	}
	s.nav.Clamp()
}

func (s *Tree) selectedName() string {
	e, _ := s.Selected()
	return e.Name
}

// sortEntries puts directories first, then everything else, each by name.
func sortEntries(es []TreeEntry) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].IsDir() != es[j].IsDir() {
			return es[i].IsDir()
		}
		return es[i].Name < es[j].Name
	})
}

func (s *Tree) enter(dir string) tea.Cmd {
	s.back[s.dir] = s.selectedName()
	s.want = s.back[dir]
	s.filter = Filter{}
	return s.load(dir)
}

// Update implements Screen.
func (s *Tree) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case treeLinkMsg:
		if !msg.isDir {
			s.loading = false
			return s, func() tea.Msg { return msg.file }
		}
		s.want, s.filter = "", Filter{}
		return s.Update(msg.dir)
	case TreeLoadedMsg:
		s.loading = false
		if msg.Err != nil {
			return s, errCmd(fmt.Errorf("reading %s of commit %s: %w", msg.Dir, s.commit, msg.Err))
		}
		sortEntries(msg.Entries)
		s.dir, s.entries, s.loaded = msg.Dir, msg.Entries, true
		s.nav.Offset = 0
		s.applyFilter(s.want)
		s.want = ""
	case MarkedMsg:
		s.marked = msg.Commit
	case tea.KeyPressMsg:
		if used, refilter := s.filter.Handle(msg, s.keys.Filter, s.keys.Back); used {
			if refilter {
				s.applyFilter(s.selectedName())
			}
			return s, nil
		}
		switch {
		case s.nav.Key(s.keys.NavKeys, msg):
		case key.Matches(msg, s.keys.Back):
			if s.dir != "/" {
				return s, s.enter(path.Dir(s.dir))
			}
			return s, backCmd
		case key.Matches(msg, s.keys.Up1):
			if s.dir != "/" && !s.loading {
				return s, s.enter(path.Dir(s.dir))
			}
		case key.Matches(msg, s.keys.Open):
			return s, s.open()
		case key.Matches(msg, s.keys.Mark):
			if s.marked == s.commit {
				return s, func() tea.Msg { return MarkMsg{} }
			}
			c := s.commit
			return s, func() tea.Msg { return MarkMsg{Commit: c, Label: c.Short()} }
		case key.Matches(msg, s.keys.Diff):
			if s.marked.IsZero() {
				return s, errCmd(fmt.Errorf("no commit marked: press m on a commit first, then d on another"))
			}
			from, to := s.marked, s.commit
			return s, func() tea.Msg { return OpenDiffMsg{From: from, To: to} }
		}
	case tea.MouseMsg:
		before := s.nav.Cursor
		if s.nav.Mouse(msg, msg.Mouse().Y-1-s.filterLines()) && before == s.nav.Cursor {
			return s, s.open()
		}
	}
	return s, nil
}

func (s *Tree) open() tea.Cmd {
	e, ok := s.Selected()
	if !ok || s.loading {
		return nil
	}
	if e.IsDir() {
		return s.enter(path.Join(s.dir, e.Name))
	}
	c, p := s.commit, path.Join(s.dir, e.Name)
	if e.IsSymlink() {
		// A link to a directory is browsed like the directory; anything
		// else opens in the viewer (which follows links to files).
		t := e.Target
		if !path.IsAbs(t) {
			t = path.Join(s.dir, t)
		}
		t = cleanDir(t)
		s.back[s.dir] = e.Name
		s.loading = true
		src := s.src
		return func() tea.Msg {
			es, err := src.ReadDir(context.Background(), c, t)
			return treeLinkMsg{TreeLoadedMsg{Dir: t, Entries: es}, OpenFileMsg{Commit: c, Path: p}, err == nil}
		}
	}
	return func() tea.Msg { return OpenFileMsg{Commit: c, Path: p} }
}

var treeColumns = []Column{{"MODE", 6}, {"UID/GID", 9}, {"SIZE", 10}, {"NAME", 0}}

// View implements Screen.
func (s *Tree) View() string {
	if s.w <= 0 || s.h <= 0 {
		return ""
	}
	ws := layoutColumns(treeColumns, s.w)
	titles := make([]string, len(treeColumns))
	for i, c := range treeColumns {
		titles[i] = c.Title
	}
	titles[3] += "  " + s.dir // the header's breadcrumb may be cut
	lines := []string{s.th.Column.Render(theme.FitLine(tableRow(titles, ws, false), s.w))}
	if f := s.filter.View(s.th); f != "" {
		lines = append(lines, f)
	}
	switch {
	case !s.loaded && s.loading:
		lines = append(lines, "  loading "+s.dir+"…")
	case s.loaded && len(s.entries) == 0:
		lines = append(lines, "  (empty directory)")
	case s.loaded && len(s.shown) == 0:
		lines = append(lines, "  nothing matches "+fmt.Sprintf("%q", s.filter.Text))
	}
	end := min(s.nav.Offset+s.nav.Height, len(s.shown))
	for i := s.nav.Offset; i < end; i++ {
		e := s.entries[s.shown[i]]
		name := e.Name
		switch {
		case e.IsDir():
			name += "/"
		case e.IsSymlink():
			name += " -> " + e.Target
		}
		size := ""
		if !e.IsDir() {
			size = strconv.FormatInt(e.Size, 10)
		}
		cells := []string{e.ModeString(), fmt.Sprintf("%d/%d", e.UID, e.GID), fmt.Sprintf("%*s", ws[2], size), name}
		if i == s.nav.Cursor {
			lines = append(lines, s.th.Selected.Render(theme.FitLine(tableRow(cells, ws, true), s.w)))
			continue
		}
		cells[0] = s.th.Dim.Render(theme.FitLine(cells[0], ws[0]))
		cells[1] = s.th.Dim.Render(theme.FitLine(cells[1], ws[1]))
		if e.IsDir() {
			cells[3] = s.th.Accent.Render(theme.FitLine(cells[3], ws[3]))
		}
		lines = append(lines, tableRow(cells, ws, false))
	}
	body := theme.Fit(strings.Join(lines, "\n"), s.w, s.h-1-treeDetailLines)
	rule := s.th.Border.Render(strings.Repeat("─", s.w))
	return theme.Fit(body+"\n"+rule+"\n"+s.detailView(), s.w, s.h)
}

func (s *Tree) detailView() string {
	e, ok := s.Selected()
	if !ok {
		return s.th.Dim.Render("commit " + s.commit.String())
	}
	lab := func(l string) string { return s.th.Label.Render(fmt.Sprintf("%-9s", l)) }
	p := path.Join(s.dir, e.Name)
	var lines []string
	if e.IsDir() {
		lines = append(lines, lab("Path")+p+"/", lab("Dirtree")+e.Tree.String(), lab("Dirmeta")+e.Checksum.String())
	} else {
		lines = append(lines, lab("Path")+p, lab("Checksum")+e.Checksum.String())
		if e.IsSymlink() {
			lines = append(lines, lab("Target")+e.Target)
		}
	}
	x := "(none)"
	if len(e.Xattrs) > 0 {
		x = XattrsText(e.Xattrs)
	}
	lines = append(lines, lab("Xattrs")+x)
	return strings.Join(lines, "\n")
}
