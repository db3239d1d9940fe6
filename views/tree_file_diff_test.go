package views

import (
	"context"
	"fmt"
	"path"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/theme"
)

// fakeFS is a two-commit file system serving TreeSource, FileSource,
// DiffSource and ActionSource.
type fakeFS struct {
	files map[string][]byte // "/etc/os-release"
	links map[string]string
	reads []int64 // ReadFileAt offsets
	ran   []ActionRequest
}

func newFakeFS() *fakeFS {
	text := ""
	for i := 1; i <= 300; i++ {
		text += fmt.Sprintf("line %d\tof the config\n", i)
	}
	bin := make([]byte, 600)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	return &fakeFS{
		files: map[string][]byte{
			"/etc/os-release":     []byte("NAME=ExampleOS\nVERSION=1.0\nID=example\n"),
			"/etc/long.conf":      []byte(text),
			"/usr/bin/tool":       bin,
			"/usr/lib/libc.so.6":  []byte("\x7fELF\x00\x00"),
			"/usr/share/doc/READ": []byte("read me\n"),
		},
		links: map[string]string{"/bin": "usr/bin"},
	}
}

var sharedDirs = []string{"/", "/etc", "/usr", "/usr/bin", "/usr/lib", "/usr/share", "/usr/share/doc"}

func (f *fakeFS) ReadDir(_ context.Context, _ oid.Checksum, dir string) ([]TreeEntry, error) {
	var out []TreeEntry
	for _, d := range sharedDirs {
		if d != "/" && path.Dir(d) == dir {
			out = append(out, TreeEntry{Name: path.Base(d), Path: d, Mode: object.ModeDir | 0o755, Checksum: sum(1000 + len(d)), Tree: sum(2000 + len(d))})
		}
	}
	for p, b := range f.files {
		if path.Dir(p) == dir {
			e := TreeEntry{Name: path.Base(p), Path: p, Mode: object.ModeReg | 0o644, Size: int64(len(b)), Checksum: sum(len(p))}
			if p == "/usr/bin/tool" {
				e.Mode = object.ModeReg | 0o755
				e.Xattrs = []object.Xattr{{Name: "security.capability", Value: []byte{1, 0, 0, 2}}}
			}
			out = append(out, e)
		}
	}
	for p, t := range f.links {
		if path.Dir(p) == dir {
			out = append(out, TreeEntry{Name: path.Base(p), Path: p, Mode: object.ModeLink | 0o777, Target: t, Checksum: sum(9)})
		}
	}
	if dir == "/missing" {
		return nil, fmt.Errorf("no such directory")
	}
	return out, nil
}

func (f *fakeFS) StatFile(_ context.Context, _ oid.Checksum, p string) (FileInfo, error) {
	b, ok := f.files[p]
	if !ok {
		return FileInfo{}, fmt.Errorf("%s: not found", p)
	}
	return FileInfo{Path: p, Mode: object.ModeReg | 0o644, Size: int64(len(b)), Checksum: sum(len(p))}, nil
}

func (f *fakeFS) ReadFileAt(_ context.Context, _ oid.Checksum, p string, off int64, n int) ([]byte, error) {
	f.reads = append(f.reads, off)
	b := f.files[p]
	if off >= int64(len(b)) {
		return nil, nil
	}
	return b[off:min(int(off)+n, len(b))], nil
}

func (f *fakeFS) DiffCommits(context.Context, oid.Checksum, oid.Checksum) ([]DiffEntry, error) {
	return []DiffEntry{
		{Kind: 'M', Path: "/etc/os-release"},
		{Kind: 'M', Path: "/usr/bin/tool"},
		{Kind: 'D', Path: "/usr/share/doc", Dir: true},
		{Kind: 'A', Path: "/etc/motd"},
		{Kind: 'M', Path: "/etc/long.conf"},
	}, nil
}

func (f *fakeFS) DiffFile(_ context.Context, _, _ oid.Checksum, p string) (FileDiffData, error) {
	switch p {
	case "/etc/os-release":
		return FileDiffData{Old: f.files[p], New: []byte("NAME=ExampleOS\nVERSION=1.1\nID=example\nVARIANT=server\n")}, nil
	case "/usr/bin/tool":
		return FileDiffData{Old: f.files[p], New: append([]byte{0}, f.files[p]...)}, nil
	case "/etc/motd":
		return FileDiffData{New: []byte("welcome\nto ExampleOS\n")}, nil
	case "/etc/long.conf":
		n := strings.Replace(string(f.files[p]), "line 100\t", "LINE 100\t", 1)
		n = strings.Replace(n, "line 110\t", "line 110 changed\t", 1)
		return FileDiffData{Old: f.files[p], New: []byte(n)}, nil
	}
	return FileDiffData{}, fmt.Errorf("%s: no diff", p)
}

func (f *fakeFS) ActionRepoPath() string { return "/srv/repo" }

func (f *fakeFS) ActionRun(req ActionRequest) ActionFunc {
	return func(context.Context, func(done, total int64)) (string, error) {
		f.ran = append(f.ran, req)
		return "ok", nil
	}
}

// drive is run (views_test.go) that also hands back file, screen and
// action messages, which are the root's business.
func drive(s Screen, cmd tea.Cmd) (Screen, []tea.Msg) {
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
		case OpenLogMsg, OpenTreeMsg, OpenFileMsg, OpenDiffMsg, OpenScreenMsg, BackMsg, ErrorMsg, MarkMsg, RunActionMsg:
			out = append(out, msg)
		default:
			var next tea.Cmd
			s, next = s.Update(msg)
			queue = append(queue, next)
		}
	}
	return s, out
}

func keys(s Screen, ks ...string) (Screen, []tea.Msg) {
	var all []tea.Msg
	for _, k := range ks {
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
		case "space":
			msg = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
		case "ctrl+s":
			msg = tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}
		default:
			r := []rune(k)[0]
			msg = tea.KeyPressMsg{Code: r, Text: k}
		}
		var cmd tea.Cmd
		s, cmd = s.Update(msg)
		var out []tea.Msg
		s, out = drive(s, cmd)
		all = append(all, out...)
	}
	return s, all
}

// typeText sends each rune of text as a key press.
func typeText(s Screen, text string) Screen {
	for _, r := range text {
		s, _ = keys(s, string(r))
	}
	return s
}

var bigSizes = []struct{ w, h int }{{80, 24}, {140, 40}}

func forSizes(t *testing.T, fn func(t *testing.T, w, h int)) {
	for _, sz := range bigSizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) { fn(t, sz.w, sz.h) })
	}
}

func TestTreeGolden(t *testing.T) {
	forSizes(t, func(t *testing.T, w, h int) {
		var s Screen = NewTree(newFakeFS(), theme.Plain(), sum(1), "/")
		s.SetSize(w, h)
		s, _ = run(s, s.Init())
		s, _ = keys(s, "j", "enter", "j") // /usr, then its second entry: lib/
		golden.RequireEqual(t, s.View())
	})
}

func TestTreeSortsDirectoriesFirstAndShowsLsModes(t *testing.T) {
	var s Screen = NewTree(newFakeFS(), theme.Plain(), sum(1), "/")
	s.SetSize(100, 20)
	s, _ = run(s, s.Init())
	tr := s.(*Tree)
	var names []string
	for _, i := range tr.shown {
		names = append(names, tr.entries[i].Name)
	}
	if got := strings.Join(names, " "); got != "etc usr bin" {
		t.Fatalf("order %q, want dirs first then files", got)
	}
	v := s.View()
	for _, want := range []string{"d00755", "l00777", "bin -> usr/bin", "Dirtree  " + sum(2000+len("/etc")).String()} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}

func TestTreeEnterDescendsBackReturnsToTheSameEntryEscAtRootGoesBack(t *testing.T) {
	var s Screen = NewTree(newFakeFS(), theme.Plain(), sum(1), "/")
	s.SetSize(80, 24)
	s, _ = run(s, s.Init())
	s, _ = press(s, "j", "enter") // usr
	tr := s.(*Tree)
	if tr.Dir() != "/usr" {
		t.Fatalf("dir %s", tr.Dir())
	}
	s, _ = press(s, "j", "j", "enter") // /usr/share
	if tr.Dir() != "/usr/share" {
		t.Fatalf("dir %s", tr.Dir())
	}
	s, out := keys(s, "enter", "enter") // doc, then READ (a file)
	if len(out) != 1 || out[0] != (OpenFileMsg{Commit: sum(1), Path: "/usr/share/doc/READ"}) {
		t.Fatalf("enter on a file: %v", out)
	}
	s, _ = press(s, "backspace", "h")
	if e, _ := tr.Selected(); tr.Dir() != "/usr" || e.Name != "share" {
		t.Fatalf("after going up twice: %s, selected %s", tr.Dir(), e.Name)
	}
	s, out = press(s, "esc")
	if tr.Dir() != "/" || len(out) != 0 {
		t.Fatalf("esc in a subdir goes up: %s %v", tr.Dir(), out)
	}
	if e, _ := tr.Selected(); e.Name != "usr" {
		t.Fatalf("selected %s after going up", e.Name)
	}
	_, out = press(s, "esc")
	if len(out) != 1 || out[0] != (BackMsg{}) {
		t.Fatalf("esc at the root: %v", out)
	}
}

func TestTreeFilterNarrowsAndEscClears(t *testing.T) {
	var s Screen = NewTree(newFakeFS(), theme.Plain(), sum(1), "/etc")
	s.SetSize(80, 24)
	s, _ = run(s, s.Init())
	s, _ = press(s, "/", "o", "s")
	tr := s.(*Tree)
	if !s.Capturing() || len(tr.shown) != 1 {
		t.Fatalf("filter: capturing %v, %d shown", s.Capturing(), len(tr.shown))
	}
	golden.RequireEqual(t, s.View())
	_, _ = press(s, "enter", "esc")
	if len(tr.shown) != 2 {
		t.Fatalf("esc did not clear: %d shown", len(tr.shown))
	}
}

func TestTreeMarkThenDiff(t *testing.T) {
	var s Screen = NewTree(newFakeFS(), theme.Plain(), sum(1), "/")
	s.SetSize(80, 24)
	s, _ = run(s, s.Init())
	s, out := press(s, "d")
	if _, ok := out[0].(ErrorMsg); !ok {
		t.Fatalf("d without mark: %v", out)
	}
	_, out = press(s, "m")
	if m := out[0].(MarkMsg); m.Commit != sum(1) {
		t.Fatalf("mark %v", m)
	}
	var s2 Screen = NewTree(newFakeFS(), theme.Plain(), sum(2), "/")
	s2.SetSize(80, 24)
	s2, _ = run(s2, s2.Init())
	s2, _ = s2.Update(MarkedMsg{Commit: sum(1)})
	_, out = press(s2, "d")
	if len(out) != 1 || out[0] != (OpenDiffMsg{From: sum(1), To: sum(2)}) {
		t.Fatalf("d: %v", out)
	}
}

func TestTreeLoadErrorNamesThePath(t *testing.T) {
	var s Screen = NewTree(newFakeFS(), theme.Plain(), sum(1), "/missing")
	s.SetSize(80, 24)
	_, out := run(s, s.Init())
	if len(out) != 1 || !strings.Contains(out[0].(ErrorMsg).Err.Error(), "/missing") {
		t.Fatalf("%v", out)
	}
}

func openFile(t *testing.T, f *fakeFS, p string, w, h int) Screen {
	t.Helper()
	var s Screen = NewFile(f, theme.Plain(), sum(1), p)
	s.SetSize(w, h)
	s, out := run(s, s.Init())
	if len(out) != 0 {
		t.Fatalf("opening %s: %v", p, out)
	}
	return s
}

func TestFileTextGolden(t *testing.T) {
	forSizes(t, func(t *testing.T, w, h int) {
		s := openFile(t, newFakeFS(), "/etc/long.conf", w, h)
		s, _ = press(s, "j", "j")
		golden.RequireEqual(t, s.View())
	})
}

func TestFileHexGolden(t *testing.T) {
	forSizes(t, func(t *testing.T, w, h int) {
		s := openFile(t, newFakeFS(), "/usr/bin/tool", w, h)
		if !s.(*File).Hex() {
			t.Fatal("binary file not shown as hex")
		}
		golden.RequireEqual(t, s.View())
	})
}

func TestFileIsReadLazilyInBoundedChunks(t *testing.T) {
	defer func(c, n int) { FileChunk, FileCacheChunks = c, n }(FileChunk, FileCacheChunks)
	FileChunk, FileCacheChunks = 256, 4
	f := newFakeFS()
	var big strings.Builder
	for i := 1; i <= 5000; i++ {
		fmt.Fprintf(&big, "row %05d\n", i) // 10 bytes a line: 50,000 bytes
	}
	f.files["/big"] = []byte(big.String())
	s := openFile(t, f, "/big", 80, 24)
	fl := s.(*File)
	if len(f.reads) > 2 {
		t.Fatalf("first screen read %d chunks: %v", len(f.reads), f.reads)
	}
	s, _ = press(s, "G")
	if !strings.Contains(s.View(), "5000  row 05000") {
		t.Fatalf("G does not reach the last line:\n%s", s.View())
	}
	if fl.CachedBytes() > 4*256 {
		t.Fatalf("%d bytes cached, want at most 4 chunks", fl.CachedBytes())
	}
	s, _ = press(s, "g")
	if !strings.Contains(s.View(), "   1  row 00001") {
		t.Fatalf("g:\n%s", s.View())
	}
	for range 30 {
		s, _ = press(s, "pgdown")
	}
	if v := s.View(); !strings.Contains(v, fmt.Sprintf("row %05d", 30*20+1)) {
		t.Fatalf("30 pages down:\n%s", v)
	}
}

func TestFileBinaryDetection(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"text", []byte("hello\n"), false},
		{"utf8", []byte("grüße ✓\n"), false},
		{"nul", []byte("a\x00b"), true},
		{"latin1", []byte("gr\xfc\xdfe"), true},
	} {
		if got := isBinary(c.b, int64(len(c.b))); got != c.want {
			t.Errorf("%s: binary %v", c.name, got)
		}
	}
	// A multi-byte rune cut by the 8 KiB sniff is not binary.
	b := append([]byte(strings.Repeat("a", binarySniff-1)), "é"...)
	if isBinary(b, int64(len(b))+100) {
		t.Error("rune cut at the sniff boundary seen as binary")
	}
}

func TestFileEscGoesBackAndXTogglesHex(t *testing.T) {
	s := openFile(t, newFakeFS(), "/etc/os-release", 80, 24)
	s, _ = press(s, "x")
	if !s.(*File).Hex() || !strings.Contains(s.View(), "4e 41 4d 45") {
		t.Fatalf("x: \n%s", s.View())
	}
	_, out := press(s, "esc")
	if len(out) != 1 || out[0] != (BackMsg{}) {
		t.Fatalf("esc: %v", out)
	}
}

func openDiff(t *testing.T, w, h int) Screen {
	t.Helper()
	var s Screen = NewDiff(newFakeFS(), theme.Plain(), sum(1), sum(2))
	s.SetSize(w, h)
	s, out := run(s, s.Init())
	if len(out) != 0 {
		t.Fatal(out)
	}
	return s
}

func TestDiffListGolden(t *testing.T) {
	forSizes(t, func(t *testing.T, w, h int) {
		s := openDiff(t, w, h)
		golden.RequireEqual(t, s.View())
	})
}

// The content diff is unified below 140 columns, side by side from 140.
func TestDiffContentGolden(t *testing.T) {
	forSizes(t, func(t *testing.T, w, h int) {
		s := openDiff(t, w, h)
		s, _ = press(s, "enter") // /etc/long.conf
		if !s.(*Diff).InContent() {
			t.Fatal("enter did not open the content diff")
		}
		golden.RequireEqual(t, s.View())
	})
}

func TestDiffSmallFileUnifiedGolden(t *testing.T) {
	s := openDiff(t, 80, 24)
	s, _ = press(s, "j", "j", "enter") // /etc/os-release
	golden.RequireEqual(t, s.View())
}

func TestDiffCountsBinaryAddedAndBack(t *testing.T) {
	s := openDiff(t, 80, 24)
	if v := s.View(); !strings.Contains(v, "A 1  M 3  D 1") {
		t.Fatalf("counts:\n%s", v)
	}
	s, _ = press(s, "G", "k", "enter") // /usr/bin/tool
	if v := s.View(); !strings.Contains(v, "Binary files differ") {
		t.Fatalf("binary:\n%s", v)
	}
	s, out := press(s, "esc")
	if s.(*Diff).InContent() || len(out) != 0 {
		t.Fatal("esc should return to the list")
	}
	s, _ = press(s, "g", "j", "enter") // /etc/motd, added
	v := s.View()
	if !strings.Contains(v, "@@ -0,0 +1,2 @@") || !strings.Contains(v, "+welcome") {
		t.Fatalf("added file:\n%s", v)
	}
	s, _ = press(s, "esc")
	_, out = press(s, "esc")
	if len(out) != 1 || out[0] != (BackMsg{}) {
		t.Fatalf("esc on the list: %v", out)
	}
}

func TestHunksMatchDiffU(t *testing.T) {
	var a, b strings.Builder
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&a, "%d\n", i)
		if i == 10 {
			b.WriteString("ten\n")
		} else {
			fmt.Fprintf(&b, "%d\n", i)
		}
	}
	hs := Hunks(DiffLines(a.String(), b.String()), 3)
	if len(hs) != 1 || hs[0].header() != "@@ -7,7 +7,7 @@" {
		t.Fatalf("hunks %+v", hs)
	}
	// Changes 7 lines apart (more than 2×3 unchanged between) split in two.
	hs = Hunks(DiffLines("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "x\n2\n3\n4\n5\n6\n7\n8\ny\n"), 3)
	if len(hs) != 2 || hs[0].header() != "@@ -1,4 +1,4 @@" || hs[1].header() != "@@ -6,4 +6,4 @@" {
		t.Fatalf("hunks %v %v", hs[0].header(), hs)
	}
	hs = Hunks(DiffLines("a\nb\n", ""), 3)
	if hs[0].header() != "@@ -1,2 +0,0 @@" {
		t.Fatal(hs[0].header())
	}
}

func TestDiffFilterMouseAndResize(t *testing.T) {
	s := openDiff(t, 80, 24)
	s, _ = press(s, "/", "e", "t", "c", "enter")
	d := s.(*Diff)
	if len(d.shown) != 3 {
		t.Fatalf("filter etc: %d", len(d.shown))
	}
	s, _ = press(s, "esc")
	s, cmd := s.Update(tea.MouseClickMsg{X: 3, Y: 4, Button: tea.MouseLeft})
	s, _ = run(s, cmd)
	if e, _ := d.Selected(); e.Path != "/etc/os-release" {
		t.Fatalf("click selected %s", e.Path)
	}
	s, _ = press(s, "enter")
	s.SetSize(150, 30)
	if v := s.View(); !strings.Contains(v, " │ ") {
		t.Fatalf("wide resize not side by side:\n%s", v)
	}
}
