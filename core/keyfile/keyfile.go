package keyfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors returned by this package.
var (
	ErrSyntax = errors.New("keyfile: syntax error")
	ErrValue  = errors.New("keyfile: invalid value")
)

// valueError names the key and the bad value; it matches ErrValue.
type valueError struct{ msg string }

func (e *valueError) Error() string        { return e.msg }
func (e *valueError) Is(target error) bool { return target == ErrValue }

// File is a GLib key file, kept line by line.
type File struct {
	head   []kfLine // comments and blanks before the first group
	groups []*kfGroup
}

type kfGroup struct {
	name  string
	lines []kfLine // key=value lines, comments and blanks in order
}

type kfLine struct {
	key, value string
	raw        string // comment or blank line when key == ""
}

// Parse reads GLib key-file text.
func Parse(data []byte) (*File, error) {
	kf := &File{}
	var cur *kfGroup
	var pre []kfLine // comments before the first group
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	sc.Split(splitLines)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		switch {
		case trim == "" || strings.HasPrefix(trim, "#"):
			if cur == nil {
				pre = append(pre, kfLine{raw: line})
			} else {
				cur.lines = append(cur.lines, kfLine{raw: line})
			}
		case strings.HasPrefix(trim, "["):
			if !strings.HasSuffix(trim, "]") {
				return nil, fmt.Errorf("%w: line %d: unterminated group %q", ErrSyntax, n, line)
			}
			cur = &kfGroup{name: trim[1 : len(trim)-1]}
			kf.groups = append(kf.groups, cur)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || cur == nil {
				return nil, fmt.Errorf("%w: line %d: %q is not key=value in a group", ErrSyntax, n, line)
			}
			// GLib drops a "\r" that ends a line.
			cur.lines = append(cur.lines, kfLine{key: strings.TrimSpace(k), value: strings.TrimSuffix(strings.TrimLeft(v, " \t"), "\r")})
		}
	}
	kf.head = pre
	return kf, sc.Err()
}

// Clone returns a deep copy: changing it leaves kf as it was.
func (kf *File) Clone() *File {
	c := &File{head: append([]kfLine(nil), kf.head...)}
	for _, g := range kf.groups {
		c.groups = append(c.groups, &kfGroup{name: g.name, lines: append([]kfLine(nil), g.lines...)})
	}
	return c
}

// splitLines is bufio.ScanLines without dropping a "\r" before the "\n":
// a rewritten file keeps its bytes.
func splitLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// Bytes renders the key file, GLib style (a blank line between groups).
func (kf *File) Bytes() []byte {
	var b bytes.Buffer
	for _, l := range kf.head {
		b.WriteString(l.raw + "\n")
	}
	for i, g := range kf.groups {
		if i > 0 && !endsBlank(&b) {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[%s]\n", g.name)
		for _, l := range g.lines {
			if l.key == "" {
				b.WriteString(l.raw)
			} else {
				b.WriteString(l.key + "=" + l.value)
			}
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func endsBlank(b *bytes.Buffer) bool { return bytes.HasSuffix(b.Bytes(), []byte("\n\n")) }

func (kf *File) group(name string) *kfGroup {
	for _, g := range kf.groups {
		if g.name == name {
			return g
		}
	}
	return nil
}

// Groups lists group names in file order.
func (kf *File) Groups() []string {
	out := make([]string, len(kf.groups))
	for i, g := range kf.groups {
		out[i] = g.name
	}
	return out
}

// Keys lists the keys of a group in file order.
func (kf *File) Keys(group string) []string {
	g := kf.group(group)
	if g == nil {
		return nil
	}
	var out []string
	for _, l := range g.lines {
		if l.key != "" {
			out = append(out, l.key)
		}
	}
	return out
}

// Get returns a raw value; ok is false when the group or key is missing.
func (kf *File) Get(group, key string) (string, bool) {
	g := kf.group(group)
	if g == nil {
		return "", false
	}
	for i := len(g.lines) - 1; i >= 0; i-- { // the last duplicate wins, as in GLib
		if g.lines[i].key == key {
			return unescapeValue(g.lines[i].value), true
		}
	}
	return "", false
}

// String returns a value or def when missing.
func (kf *File) String(group, key, def string) string {
	if v, ok := kf.Get(group, key); ok {
		return v
	}
	return def
}

// Bool parses a GLib boolean (true/false/1/0) or returns def when missing.
func (kf *File) Bool(group, key string, def bool) (bool, error) {
	v, ok := kf.Get(group, key)
	if !ok {
		return def, nil
	}
	switch strings.TrimSpace(v) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return def, &valueError{fmt.Sprintf("%s.%s: %q is not a boolean", group, key, v)}
}

// Int parses an integer or returns def when missing.
func (kf *File) Int(group, key string, def int64) (int64, error) {
	v, ok := kf.Get(group, key)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return def, &valueError{fmt.Sprintf("%s.%s: %q is not an integer", group, key, v)}
	}
	return n, nil
}

// List splits a ';'-separated list value.
func (kf *File) List(group, key string) []string {
	v, ok := kf.Get(group, key)
	if !ok {
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ";") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Set stores a value, creating the group and key as needed.
func (kf *File) Set(group, key, value string) {
	g := kf.group(group)
	if g == nil {
		g = &kfGroup{name: group}
		kf.groups = append(kf.groups, g)
	}
	value = escapeValue(value)
	for i := len(g.lines) - 1; i >= 0; i-- {
		if g.lines[i].key == key {
			g.lines[i].value = value
			return
		}
	}
	// Insert after the last key so trailing blank lines stay at the end.
	at := len(g.lines)
	for at > 0 && g.lines[at-1].key == "" && strings.TrimSpace(g.lines[at-1].raw) == "" {
		at--
	}
	g.lines = append(g.lines[:at], append([]kfLine{{key: key, value: value}}, g.lines[at:]...)...)
}

// SetList stores a ';'-separated list with GLib's trailing ';'.
func (kf *File) SetList(group, key string, values []string) {
	kf.Set(group, key, strings.Join(values, ";")+";")
}

// Delete removes a key; it reports whether it existed.
func (kf *File) Delete(group, key string) bool {
	g := kf.group(group)
	if g == nil {
		return false
	}
	found := false
	out := g.lines[:0]
	for _, l := range g.lines {
		if l.key == key {
			found = true
			continue
		}
		out = append(out, l)
	}
	g.lines = out
	return found
}

// DeleteGroup removes a whole group; it reports whether it existed.
func (kf *File) DeleteGroup(group string) bool {
	for i, g := range kf.groups {
		if g.name == group {
			kf.groups = append(kf.groups[:i], kf.groups[i+1:]...)
			return true
		}
	}
	return false
}

func unescapeValue(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case 's':
			b.WriteByte(' ')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

func escapeValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == ' ' && i == 0:
			b.WriteString(`\s`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
