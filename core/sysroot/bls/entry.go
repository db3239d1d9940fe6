package bls

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrInvalidUTF8 is returned for entries that are not valid UTF-8 or hold
// a NUL (libglnx refuses to read them as text).
var ErrInvalidUTF8 = errors.New("bls: invalid UTF-8")

// writeOrder is the fixed order libostree writes the known keys in,
// following the BootLoaderSpec example.
var writeOrder = [...]string{"title", "version", "options", "devicetree", "linux", "initrd"}

// Entry is one boot loader entry: key → value, plus additional "initrd"
// lines (overlay initrds). Keys other than the known ones keep the order
// in which they were first seen.
type Entry struct {
	keys    []string
	vals    map[string]string
	overlay []string
}

// NewEntry returns an empty entry.
func NewEntry() *Entry { return &Entry{vals: map[string]string{}} }

// Parse reads an entry as OstreeBootconfigParser does: lines split on
// "\n"; a line starting with an ASCII letter is "key<space or tab>value"
// (the value is everything after the first separator); the first "initrd"
// is a key, later ones are overlay initrds; a repeated key keeps its last
// value; other lines are ignored.
func Parse(data []byte) (*Entry, error) {
	// libglnx reads entries with g_utf8_validate, which also refuses NULs.
	if !utf8.Valid(data) || strings.IndexByte(string(data), 0) >= 0 {
		return nil, ErrInvalidUTF8
	}
	e := NewEntry()
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || !isAlpha(line[0]) {
			continue
		}
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			continue
		}
		k, v := line[:i], line[i+1:]
		if _, ok := e.vals["initrd"]; ok && k == "initrd" {
			e.overlay = append(e.overlay, v)
			continue
		}
		e.Set(k, v)
	}
	return e, nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Get returns a key's value.
func (e *Entry) Get(key string) (string, bool) {
	v, ok := e.vals[key]
	return v, ok
}

// Value returns a key's value or "".
func (e *Entry) Value(key string) string { return e.vals[key] }

// Set stores a value, keeping the key's first position.
func (e *Entry) Set(key, value string) {
	if _, ok := e.vals[key]; !ok {
		e.keys = append(e.keys, key)
	}
	e.vals[key] = value
}

// Delete removes a key.
func (e *Entry) Delete(key string) {
	if _, ok := e.vals[key]; !ok {
		return
	}
	delete(e.vals, key)
	for i, k := range e.keys {
		if k == key {
			e.keys = append(e.keys[:i], e.keys[i+1:]...)
			break
		}
	}
}

// Keys lists the keys in first-seen order.
func (e *Entry) Keys() []string { return append([]string(nil), e.keys...) }

// OverlayInitrds are the "initrd" lines after the first.
func (e *Entry) OverlayInitrds() []string { return append([]string(nil), e.overlay...) }

// SetOverlayInitrds replaces the overlay initrds; they are only written
// when the entry has a primary "initrd".
func (e *Entry) SetOverlayInitrds(paths []string) {
	e.overlay = append([]string(nil), paths...)
}

// Clone returns a deep copy.
func (e *Entry) Clone() *Entry {
	c := &Entry{keys: append([]string(nil), e.keys...), vals: make(map[string]string, len(e.vals)), overlay: append([]string(nil), e.overlay...)}
	for k, v := range e.vals {
		c.vals[k] = v
	}
	return c
}

// Bytes renders the entry as libostree writes it: the known keys in the
// fixed order title, version, options, devicetree, linux, initrd, then
// the overlay initrds, then any other key; each as "key value\n".
func (e *Entry) Bytes() []byte {
	var b strings.Builder
	written := map[string]bool{}
	for _, k := range writeOrder {
		if v, ok := e.vals[k]; ok {
			b.WriteString(k + " " + v + "\n")
			written[k] = true
		}
	}
	if written["initrd"] {
		for _, v := range e.overlay {
			b.WriteString("initrd " + v + "\n")
		}
	}
	for _, k := range e.keys {
		if !written[k] {
			b.WriteString(k + " " + e.vals[k] + "\n")
		}
	}
	return []byte(b.String())
}

// OstreeArg returns the value of the first "ostree=" kernel argument in
// the options line ("" and false when there is none), splitting on single
// spaces as libostree does.
func (e *Entry) OstreeArg() (string, bool) {
	for _, a := range strings.Split(e.vals["options"], " ") {
		if v, ok := strings.CutPrefix(a, "ostree="); ok {
			return v, true
		}
	}
	return "", false
}

// CompareVersions orders two entries as libostree sorts them (highest
// "version" first by strverscmp; an entry without a version sorts after
// one with). It returns <0 when a sorts first.
func CompareVersions(a, b *Entry) int {
	av, aok := a.vals["version"]
	bv, bok := b.vals["version"]
	switch {
	case aok && bok:
		return -Strverscmp(av, bv)
	case aok:
		return -1
	default:
		return 1
	}
}
