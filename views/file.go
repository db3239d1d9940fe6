package views

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/theme"
)

// FileInfo describes a file opened in the viewer.
type FileInfo struct {
	Path     string
	Mode     uint32
	UID, GID uint32
	// Size is the payload read by ReadFileAt (for a symlink: of the file it
	// leads to inside the commit).
	Size     int64
	Checksum oid.Checksum
	Target   string // symlink target
	Xattrs   []object.Xattr
}

// FileSource reads a file of a commit in ranges, so the viewer never holds
// more than a few chunks of a large file.
type FileSource interface {
	StatFile(ctx context.Context, commit oid.Checksum, path string) (FileInfo, error)
	// ReadFileAt returns up to n bytes at off (fewer only at the end).
	ReadFileAt(ctx context.Context, commit oid.Checksum, path string, off int64, n int) ([]byte, error)
}

// File viewer tuning: chunk size, how many chunks stay cached, and the
// line-index checkpoint interval (one offset kept per fileCheckpoint lines).
var (
	FileChunk       = 64 << 10
	FileCacheChunks = 32
)

const (
	fileCheckpoint = 64
	binarySniff    = 8 << 10
	maxLineBytes   = 4 << 10
)

// FileKeys is the file viewer's key map.
type FileKeys struct {
	NavKeys
	Hex key.Binding
}

// ShortHelp implements help.KeyMap.
func (k FileKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageDown, k.Bottom, k.Hex, k.Back}
}

// FullHelp implements help.KeyMap.
func (k FileKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown}, {k.Hex, k.Back}}
}

// Messages of the file viewer (exported for tests).
type (
	FileStatMsg struct {
		Info FileInfo
		Err  error
	}
	FileChunkMsg struct {
		Index int64
		Data  []byte
		Err   error
	}
)

// File shows one file: text with line numbers, or a hex dump for binary
// content, read lazily in chunks.
type File struct {
	src    FileSource
	th     *theme.Theme
	keys   FileKeys
	commit oid.Checksum
	path   string
	w, h   int

	info     FileInfo
	statted  bool
	binary   bool
	decided  bool // binary or not is known (first chunk read)
	forceHex bool

	chunks   map[int64][]byte
	lru      []int64
	inflight map[int64]bool

	// Line index: checkpoints[i] is the offset of line i*fileCheckpoint;
	// lines counts the lines found in the first scanned bytes.
	checkpoints []int64
	lines       int64
	scanned     int64
	follow      bool // G pressed: keep indexing to the end
	endsNL      bool // the last byte is a newline

	top int64 // first line (text) or row (hex) shown
}

// NewFile returns the viewer of path in commit.
func NewFile(src FileSource, th *theme.Theme, commit oid.Checksum, path string) *File {
	k := FileKeys{NavKeys: DefaultNavKeys(),
		Hex: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "hex/text")),
	}
	k.Back.SetKeys("esc", "backspace", "h", "left")
	return &File{src: src, th: th, keys: k, commit: commit, path: path,
		chunks: map[int64][]byte{}, inflight: map[int64]bool{}, checkpoints: []int64{0}}
}

// Init implements Screen.
func (s *File) Init() tea.Cmd {
	src, c, p := s.src, s.commit, s.path
	return func() tea.Msg {
		fi, err := src.StatFile(context.Background(), c, p)
		return FileStatMsg{fi, err}
	}
}

// Title implements Screen.
func (s *File) Title() string { return "File " + s.path }

// KeyMap implements Screen.
func (s *File) KeyMap() help.KeyMap { return s.keys }

// Capturing implements Screen.
func (s *File) Capturing() bool { return false }

// ActionContext implements ActionContexter.
func (s *File) ActionContext() ActionContext { return ActionContext{Commit: s.commit} }

// SetSize implements Screen.
func (s *File) SetSize(w, h int) { s.w, s.h = w, h }

const fileHeaderLines = 3

func (s *File) bodyHeight() int { return max(s.h-fileHeaderLines, 1) }

// Hex reports that the hex dump is shown.
func (s *File) Hex() bool { return s.binary || s.forceHex }

// CachedBytes is how many bytes of the file are held in memory (tests).
func (s *File) CachedBytes() int {
	n := 0
	for _, c := range s.chunks {
		n += len(c)
	}
	return n
}

func (s *File) chunkCount() int64 {
	return (s.info.Size + int64(FileChunk) - 1) / int64(FileChunk)
}

// request asks for chunk i unless cached or in flight.
func (s *File) request(i int64) tea.Cmd {
	if i < 0 || i >= s.chunkCount() || s.inflight[i] {
		return nil
	}
	if _, ok := s.chunks[i]; ok {
		return nil
	}
	s.inflight[i] = true
	src, c, p, off, n := s.src, s.commit, s.path, i*int64(FileChunk), FileChunk
	return func() tea.Msg {
		b, err := src.ReadFileAt(context.Background(), c, p, off, n)
		return FileChunkMsg{Index: i, Data: b, Err: err}
	}
}

func (s *File) store(i int64, b []byte) {
	s.chunks[i] = b
	s.touch(i)
	for len(s.lru) > FileCacheChunks {
		old := s.lru[0]
		s.lru = s.lru[1:]
		delete(s.chunks, old)
	}
}

func (s *File) touch(i int64) {
	for j, v := range s.lru {
		if v == i {
			s.lru = append(s.lru[:j], s.lru[j+1:]...)
			break
		}
	}
	s.lru = append(s.lru, i)
}

func (s *File) indexed() bool { return s.scanned >= s.info.Size }

// totalLines is the number of lines known (all of them once indexed).
func (s *File) totalLines() int64 {
	n := s.lines
	if s.indexed() && s.info.Size > 0 && !s.endsNL {
		n++ // a last line without newline
	}
	return n
}

func (s *File) byteAt(off int64) (byte, bool) {
	c, ok := s.chunks[off/int64(FileChunk)]
	if !ok || int(off%int64(FileChunk)) >= len(c) {
		return 0, false
	}
	return c[off%int64(FileChunk)], true
}

// scan extends the line index over chunk i (which must be the next one).
func (s *File) scan(i int64, b []byte) {
	if s.scanned != i*int64(FileChunk) {
		return
	}
	for off := 0; ; {
		j := bytes.IndexByte(b[off:], '\n')
		if j < 0 {
			break
		}
		off += j + 1
		s.lines++
		if s.lines%fileCheckpoint == 0 {
			s.checkpoints = append(s.checkpoints, i*int64(FileChunk)+int64(off))
		}
	}
	s.scanned += int64(len(b))
	if s.scanned >= s.info.Size && len(b) > 0 {
		s.endsNL = b[len(b)-1] == '\n'
	}
	if len(b) == 0 {
		s.scanned = s.info.Size
	}
}

// rows is the number of rows the body can scroll through (so far).
func (s *File) rows() int64 {
	if s.Hex() {
		return (s.info.Size + 15) / 16
	}
	return s.totalLines()
}

// wants asks for what the window needs: the next chunk to index while
// lines below the window are unknown (or G), and the chunks shown.
func (s *File) wants() tea.Cmd {
	if !s.statted {
		return nil
	}
	var cmds []tea.Cmd
	if !s.decided {
		return s.request(0)
	}
	h := int64(s.bodyHeight())
	if !s.Hex() && !s.indexed() && (s.follow || s.lines < s.top+2*h) {
		cmds = append(cmds, s.request(s.scanned/int64(FileChunk)))
	}
	lo, hi := s.windowBytes()
	for i := lo / int64(FileChunk); hi > lo && i <= (hi-1)/int64(FileChunk); i++ {
		if _, ok := s.chunks[i]; ok {
			s.touch(i)
		} else {
			cmds = append(cmds, s.request(i))
		}
	}
	return tea.Batch(cmds...)
}

// windowBytes is the byte range the visible rows start in (text: from the
// checkpoint before the first line up to a bounded read-ahead).
func (s *File) windowBytes() (lo, hi int64) {
	h := int64(s.bodyHeight())
	if s.Hex() {
		return s.top * 16, min((s.top+h)*16, s.info.Size)
	}
	cp := s.top / fileCheckpoint
	if cp >= int64(len(s.checkpoints)) {
		return 0, 0
	}
	lo = s.checkpoints[cp]
	end := s.info.Size
	if next := cp + (h+fileCheckpoint-1)/fileCheckpoint + 1; next < int64(len(s.checkpoints)) {
		end = s.checkpoints[next]
	}
	return lo, min(end, lo+int64(FileCacheChunks/2)*int64(FileChunk))
}

func (s *File) scroll(d int64) {
	maxTop := max(s.rows()-int64(s.bodyHeight()), 0)
	s.top = min(max(s.top+d, 0), maxTop)
}

// Update implements Screen.
func (s *File) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case FileStatMsg:
		if msg.Err != nil {
			// Nothing to show: go back and say why in the banner.
			return s, tea.Sequence(backCmd, errCmd(fmt.Errorf("opening %s in commit %s: %w", s.path, s.commit.Short(), msg.Err)))
		}
		s.info, s.statted = msg.Info, true
		if s.info.Size == 0 {
			s.decided = true
		}
		return s, s.wants()
	case FileChunkMsg:
		delete(s.inflight, msg.Index)
		if msg.Err != nil {
			return s, errCmd(fmt.Errorf("reading %s at %d: %w", s.path, msg.Index*int64(FileChunk), msg.Err))
		}
		if !s.decided && msg.Index == 0 {
			s.decided = true
			s.binary = isBinary(msg.Data, s.info.Size)
		}
		s.scan(msg.Index, msg.Data)
		s.store(msg.Index, msg.Data)
		if s.follow {
			s.scroll(s.rows())
			if s.indexed() {
				s.follow = false
			}
		}
		return s, s.wants()
	case tea.KeyPressMsg:
		h := int64(s.bodyHeight())
		k := s.keys
		switch {
		case key.Matches(msg, k.Back):
			return s, backCmd
		case key.Matches(msg, k.Up):
			s.scroll(-1)
		case key.Matches(msg, k.Down):
			s.scroll(1)
		case key.Matches(msg, k.PageUp):
			s.scroll(-max(h-1, 1))
		case key.Matches(msg, k.PageDown):
			s.scroll(max(h-1, 1))
		case key.Matches(msg, k.Top):
			s.top, s.follow = 0, false
		case key.Matches(msg, k.Bottom):
			s.follow = !s.Hex() && !s.indexed()
			s.scroll(s.rows())
		case key.Matches(msg, k.Hex):
			if !s.binary {
				s.forceHex = !s.forceHex
				s.top = 0
			}
		default:
			return s, nil
		}
		return s, s.wants()
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			s.scroll(-3)
		case tea.MouseWheelDown:
			s.scroll(3)
		}
		return s, s.wants()
	}
	return s, nil
}

// isBinary: NUL bytes or invalid UTF-8 in the first 8 KiB.
func isBinary(b []byte, size int64) bool {
	b = b[:min(len(b), binarySniff)]
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	if int64(len(b)) < size {
		// The sniffed prefix may cut a multi-byte rune: ignore a partial tail.
		for i := 1; i <= 3 && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return !utf8.Valid(b)
}

// View implements Screen.
func (s *File) View() string {
	if s.w <= 0 || s.h <= 0 {
		return ""
	}
	lines := []string{s.header(), s.th.Dim.Render("checksum " + s.info.Checksum.String()),
		s.th.Border.Render(strings.Repeat("─", s.w))}
	switch {
	case !s.statted:
		lines[0] = s.th.Label.Render(s.path)
		lines[1] = "  loading…"
	case s.info.Size == 0:
		lines = append(lines, s.th.Dim.Render("  (empty file)"))
	case !s.decided:
		lines = append(lines, s.th.Dim.Render("  loading…"))
	case s.Hex():
		lines = append(lines, s.hexLines()...)
	default:
		lines = append(lines, s.textLines()...)
	}
	return theme.Fit(strings.Join(lines, "\n"), s.w, s.h)
}

func (s *File) header() string {
	fi := s.info
	kind := "text"
	if s.Hex() {
		kind = "binary"
		if !s.binary {
			kind = "hex"
		}
	}
	e := TreeEntry{Mode: fi.Mode}
	h := s.th.Label.Render(fi.Path) + "  " + e.ModeString() + fmt.Sprintf(" %d/%d  %s bytes  %s", fi.UID, fi.GID, groupDigits(fi.Size), kind)
	if fi.Target != "" {
		h += "  → " + fi.Target
	}
	if len(fi.Xattrs) > 0 {
		h += "  " + s.th.Dim.Render(XattrsText(fi.Xattrs))
	}
	rows := s.rows()
	pos := fmt.Sprintf("%d-%d/%d", min(s.top+1, rows), min(s.top+int64(s.bodyHeight()), rows), rows)
	if !s.Hex() && !s.indexed() {
		pos += "+"
	}
	gap := s.w - ansi.StringWidth(h) - len(pos) - 1
	if gap < 1 {
		return h
	}
	return h + strings.Repeat(" ", gap) + s.th.Dim.Render(pos)
}

func groupDigits(n int64) string {
	d := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (s *File) hexLines() []string {
	var out []string
	h := int64(s.bodyHeight())
	for r := s.top; r < s.top+h && r*16 < s.info.Size; r++ {
		off := r * 16
		n := min(int64(16), s.info.Size-off)
		var hx, asc strings.Builder
		for i := int64(0); i < 16; i++ {
			if i == 8 {
				hx.WriteByte(' ')
			}
			if i >= n {
				hx.WriteString("   ")
				continue
			}
			b, ok := s.byteAt(off + i)
			if !ok {
				hx.WriteString(".. ")
				asc.WriteByte(' ')
				continue
			}
			fmt.Fprintf(&hx, "%02x ", b)
			if b >= 0x20 && b < 0x7f {
				asc.WriteByte(b)
			} else {
				asc.WriteByte('.')
			}
		}
		out = append(out, s.th.Dim.Render(fmt.Sprintf("%08x", off))+"  "+hx.String()+" |"+asc.String()+"|")
	}
	return out
}

// textLines walks from the checkpoint before the first line shown.
func (s *File) textLines() []string {
	h := int64(s.bodyHeight())
	cp := s.top / fileCheckpoint
	if cp >= int64(len(s.checkpoints)) {
		return []string{s.th.Dim.Render("  indexing lines…")}
	}
	numW := max(len(strconv.FormatInt(max(s.totalLines(), 1), 10)), 4)
	var out []string
	off, line := s.checkpoints[cp], cp*fileCheckpoint
	for line < s.top+h && off < s.info.Size {
		var text []byte
		end, complete := off, false
		for end < s.info.Size {
			c, ok := s.chunks[end/int64(FileChunk)]
			if !ok {
				break
			}
			piece := c[end%int64(FileChunk):]
			if j := bytes.IndexByte(piece, '\n'); j >= 0 {
				piece, complete = piece[:j], true
			}
			if line >= s.top && len(text) < maxLineBytes {
				text = append(text, piece[:min(len(piece), maxLineBytes-len(text))]...)
			}
			end += int64(len(piece))
			if complete {
				end++
				break
			}
		}
		if !complete && end < s.info.Size {
			if line >= s.top {
				out = append(out, s.th.Dim.Render(fmt.Sprintf("%*d", numW, line+1)+"  …"))
			}
			break // the rest is not loaded yet
		}
		if line >= s.top {
			out = append(out, s.th.Dim.Render(fmt.Sprintf("%*d", numW, line+1))+"  "+printable(text))
		}
		off, line = end, line+1
	}
	return out
}

// printable expands tabs and replaces control characters and invalid UTF-8.
func printable(b []byte) string {
	var sb strings.Builder
	col := 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == '\t':
			k := 8 - col%8
			sb.WriteString(strings.Repeat(" ", k))
			col += k
			continue
		case r == utf8.RuneError && n == 1:
			r = '�'
		case r < 0x20 || r == 0x7f:
			r = '·'
		}
		sb.WriteRune(r)
		col++
	}
	return sb.String()
}
