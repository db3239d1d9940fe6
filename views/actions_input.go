package views

import tea "charm.land/bubbletea/v2"

// lineInput is a one-line text field (bubbles/textinput needs a module this
// build does not carry: github.com/atotto/clipboard). It handles typing,
// cursor moves and deletion, and draws no escape sequence.
type lineInput struct {
	value   []rune
	pos     int
	focused bool
}

func newInput(v string) lineInput { r := []rune(v); return lineInput{value: r, pos: len(r)} }

func (in *lineInput) Value() string     { return string(in.value) }
func (in *lineInput) Position() int     { return in.pos }
func (in *lineInput) Focused() bool     { return in.focused }
func (in *lineInput) Focus()            { in.focused = true }
func (in *lineInput) Blur()             { in.focused = false }
func (in *lineInput) CursorEnd()        { in.pos = len(in.value) }
func (in *lineInput) SetValue(s string) { in.value = []rune(s); in.pos = len(in.value) }

// Update edits the value; it reports whether msg was used.
func (in *lineInput) Update(msg tea.KeyPressMsg) bool {
	switch msg.String() {
	case "left", "ctrl+b":
		in.pos = max(in.pos-1, 0)
	case "right", "ctrl+f":
		in.pos = min(in.pos+1, len(in.value))
	case "home", "ctrl+a":
		in.pos = 0
	case "end", "ctrl+e":
		in.pos = len(in.value)
	case "backspace", "ctrl+h":
		if in.pos > 0 {
			in.value = append(in.value[:in.pos-1], in.value[in.pos:]...)
			in.pos--
		}
	case "delete", "ctrl+d":
		if in.pos < len(in.value) {
			in.value = append(in.value[:in.pos], in.value[in.pos+1:]...)
		}
	case "ctrl+u":
		in.value, in.pos = in.value[in.pos:], 0
	case "ctrl+k":
		in.value = in.value[:in.pos]
	default:
		if msg.Text == "" {
			return false
		}
		r := []rune(msg.Text)
		v := make([]rune, 0, len(in.value)+len(r))
		v = append(append(append(v, in.value[:in.pos]...), r...), in.value[in.pos:]...)
		in.value, in.pos = v, in.pos+len(r)
	}
	return true
}
