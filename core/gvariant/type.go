package gvariant

import (
	"fmt"
)

// maxDepth bounds the nesting of types and of values (variants inside
// variants), mirroring GLib's G_VARIANT_MAX_RECURSION_DEPTH.
const maxDepth = 128

// Type is a parsed, immutable GVariant type.
//
// A *Type caches everything the serialiser needs on the hot path: its
// alignment, its fixed size (if any) and, for tuples, the per-field layout.
type Type struct {
	kind   byte
	align  uint8 // 1, 2, 4 or 8
	fixed  int   // fixed size in bytes, 0 if variable-size
	sig    string
	elem   *Type   // 'a', 'm'
	fields []*Type // '(' and '{'
	// nvar is, for tuples and dict entries, the number of framing offsets
	// stored at the end: variable-size fields other than the last.
	nvar int
	// depth is the nesting depth of the type: 1 for basic types.
	depth int
}

// ParseType parses one complete, definite GVariant type string.
func ParseType(sig string) (*Type, error) {
	t, rest, err := parseType(sig, 0)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, fmt.Errorf("%w: trailing characters %q after type %q", ErrType, rest, t.sig)
	}
	return t, nil
}

// MustParseType is like ParseType but panics on error. Use it only for
// package-level variables holding constant signatures.
func MustParseType(sig string) *Type {
	t, err := ParseType(sig)
	if err != nil {
		panic(err)
	}
	return t
}

var basicTypes = makeBasicTypes()

func makeBasicTypes() (bt [256]*Type) {
	for _, b := range []struct {
		c     byte
		size  int
		align uint8
	}{
		{'y', 1, 1}, {'b', 1, 1}, {'n', 2, 2}, {'q', 2, 2}, {'i', 4, 4}, {'u', 4, 4},
		{'h', 4, 4}, {'x', 8, 8}, {'t', 8, 8}, {'d', 8, 8},
		{'s', 0, 1}, {'o', 0, 1}, {'g', 0, 1}, {'v', 0, 8},
	} {
		bt[b.c] = &Type{kind: b.c, align: b.align, fixed: b.size, sig: string(b.c), depth: 1}
	}
	return bt
}

func isBasicKind(c byte) bool {
	switch c {
	case 'y', 'b', 'n', 'q', 'i', 'u', 'h', 'x', 't', 'd', 's', 'o', 'g':
		return true
	}
	return false
}

// parseType parses one type at the start of s and returns the remainder.
func parseType(s string, depth int) (*Type, string, error) {
	if s == "" {
		return nil, "", fmt.Errorf("%w: empty or incomplete type string", ErrType)
	}
	if depth >= maxDepth {
		return nil, "", fmt.Errorf("%w: type nested too deeply", ErrType)
	}
	c := s[0]
	if bt := basicTypes[c]; bt != nil {
		return bt, s[1:], nil
	}
	switch c {
	case 'a', 'm':
		e, rest, err := parseType(s[1:], depth+1)
		if err != nil {
			return nil, "", err
		}
		t := &Type{kind: c, align: e.align, elem: e, sig: s[:len(s)-len(rest)], depth: e.depth + 1}
		return t, rest, nil
	case '(':
		rest := s[1:]
		var fields []*Type
		for {
			if rest == "" {
				return nil, "", fmt.Errorf("%w: unterminated tuple in %q", ErrType, s)
			}
			if rest[0] == ')' {
				rest = rest[1:]
				break
			}
			f, r, err := parseType(rest, depth+1)
			if err != nil {
				return nil, "", err
			}
			fields = append(fields, f)
			rest = r
		}
		return newTuple('(', fields, s[:len(s)-len(rest)]), rest, nil
	case '{':
		if len(s) < 2 || !isBasicKind(s[1]) {
			return nil, "", fmt.Errorf("%w: dict entry key must be a basic type in %q", ErrType, s)
		}
		k := basicTypes[s[1]]
		v, rest, err := parseType(s[2:], depth+1)
		if err != nil {
			return nil, "", err
		}
		if rest == "" || rest[0] != '}' {
			return nil, "", fmt.Errorf("%w: dict entry must have exactly two types in %q", ErrType, s)
		}
		rest = rest[1:]
		return newTuple('{', []*Type{k, v}, s[:len(s)-len(rest)]), rest, nil
	}
	return nil, "", fmt.Errorf("%w: invalid type character %q", ErrType, c)
}

func newTuple(kind byte, fields []*Type, sig string) *Type {
	t := &Type{kind: kind, align: 1, fields: fields, sig: sig, depth: 1}
	fixed := true
	off := 0
	for i, f := range fields {
		if f.depth+1 > t.depth {
			t.depth = f.depth + 1
		}
		if f.align > t.align {
			t.align = f.align
		}
		if f.fixed == 0 {
			fixed = false
			if i != len(fields)-1 {
				t.nvar++
			}
		} else {
			off = alignUp(off, int(f.align)) + f.fixed
		}
	}
	if fixed {
		off = alignUp(off, int(t.align))
		if off == 0 {
			off = 1
		}
		t.fixed = off
	}
	return t
}

func alignUp(n, a int) int { return (n + a - 1) &^ (a - 1) }

// String returns the type signature, e.g. "a{sv}".
func (t *Type) String() string {
	if t == nil {
		return "<nil>"
	}
	return t.sig
}

// Alignment returns the type's alignment requirement: 1, 2, 4 or 8.
func (t *Type) Alignment() int { return int(t.align) }

// FixedSize returns the serialised size of every value of the type, or
// ok=false if values of the type have variable size.
func (t *Type) FixedSize() (size int, ok bool) { return t.fixed, t.fixed != 0 }

// Kind returns the first character of the signature: one of
// y b n q i u x t h d s o g v a m ( {.
func (t *Type) Kind() byte { return t.kind }

// Elem returns the element type of an array or maybe type, nil otherwise.
func (t *Type) Elem() *Type { return t.elem }

// Fields returns the member types of a tuple or dict entry (key, value).
// The caller must not modify the returned slice.
func (t *Type) Fields() []*Type { return t.fields }

// Equal reports whether t and u denote the same type.
func (t *Type) Equal(u *Type) bool {
	if t == nil || u == nil {
		return t == u
	}
	return t == u || t.sig == u.sig
}

// IsBasic reports whether t is a basic type (a number, boolean or string
// type): the types allowed as dictionary keys.
func (t *Type) IsBasic() bool { return isBasicKind(t.kind) }
