// Package views holds the TUI's screens, one file per screen (refs.go,
// log.go, tree.go, file.go, diff.go, actions*.go), each with its key map
// and its own message types. Views do no I/O: they declare small source
// interfaces that tui/ implements over core/*, and call them only from
// tea.Cmds that return result messages, so scrolling never waits on disk.
//
// # Adding a screen
//
//  1. Declare the data you need as an interface in your file, e.g.
//
//     type TreeSource interface {
//     ReadDir(ctx context.Context, commit oid.Checksum, path string) ([]Entry, error)
//     }
//
//     and a constructor NewTree(src TreeSource, theme *theme.Theme, ...) *Tree.
//
//  2. Implement Screen (screen.go). Update returns the screen itself (or a
//     replacement). For a load: set a "loading" flag and return a tea.Cmd
//     that calls the source with context.Background() (or a context held by
//     the screen) and returns your own result message, e.g.
//     treeLoadedMsg{gen, entries, err}; match gen to drop stale results.
//     Report failures by returning ErrorMsg (the root shows a banner).
//
//  3. Navigate by returning messages from msg.go: OpenLogMsg, OpenTreeMsg,
//     OpenFileMsg, OpenDiffMsg, OpenScreenMsg (push a screen you built),
//     BackMsg (esc with nothing left to clear should return BackMsg).
//     Long work: RunActionMsg (the root runs it with a progress bar and
//     logs CommandLogMsg); MarkMsg to mark a commit for diffing.
//
//  4. Key map: a struct of key.Binding implementing help.KeyMap. The root
//     owns q, ?, ctrl+c, L (command log) and, when Capturing() is false,
//     handles them before your Update; esc reaches you first (clear your
//     filter; otherwise return BackMsg).
//
//  5. Size: render exactly SetSize's width × height (theme.Fit helps).
//
//  6. Wire it in tui/: implement your source interface on *tui.Services in a
//     new file tui/services_<screen>.go, and register how the root builds the
//     screen from its Open*Msg in tui/open_<screen>.go:
//
//     func init() {
//     registerOpener(func(s *Services, th *theme.Theme, msg tea.Msg) (views.Screen, bool) {
//     m, ok := msg.(views.OpenTreeMsg)
//     if !ok { return nil, false }
//     return views.NewTree(s, th, m.Commit, m.Path), true
//     })
//     }
//
//  7. Tests: golden View() at 80x24 and 120x40 with theme.Plain() (no
//     escapes), goldens in views/testdata/ (go test ./views -update), and
//     Update tests with fakes of your source interface.
package views
