package gvariant

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseText parses a value in GVariant text format, like g_variant_parse.
// If hint is non-nil the value must have that type (and untyped literals
// take it); otherwise the type is inferred the way GLib does: integers
// default to int32, strings to "s", and a type that cannot be inferred
// (e.g. a bare "[]" or "nothing") is an error.
//
// Supported: integers (decimal, 0x hex, leading-0 octal) with optional
// type keywords (byte int16 uint16 int32 uint32 int64 uint64 handle
// double), doubles including inf and nan, true/false, 'strings' and
// "strings" with escapes, b'bytestrings', [arrays], {dicts} and
// {key, value} dict entries, <variants>, (tuples), @type annotations,
// string/objectpath/signature keywords, just/nothing. Values are wrapped
// in Just automatically when a maybe type is expected, as in GLib.
func ParseText(s string, hint *Type) (Variant, error) {
	p := textParser{src: s}
	n, err := p.value(0)
	if err != nil {
		return Variant{}, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return Variant{}, p.errf("unexpected trailing text %q", p.src[p.pos:])
	}
	if hint == nil {
		return resolveNode(n)
	}
	v, err := n.get(hint)
	if err != nil {
		return Variant{}, err
	}
	return Variant{Type: hint, Value: v}, nil
}

type nodeKind int

const (
	nNum nodeKind = iota
	nBool
	nStr
	nBytes
	nArray
	nDict
	nEntry
	nTuple
	nVariant
	nJust
	nNothing
	nTyped
)

type node struct {
	kind  nodeKind
	text  string // number token
	str   string // string / bytestring contents
	b     bool
	kids  []*node // array/tuple elements, dict keys (even) and values (odd), child
	typ   *Type   // nTyped
	float bool    // number token looks like a double
	pos   int
}

type textParser struct {
	src string
	pos int
}

func (p *textParser) errf(format string, args ...any) error {
	return fmt.Errorf("gvariant: parse error at %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *textParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			p.pos++
		default:
			return
		}
	}
}

func (p *textParser) peek() byte {
	p.skipSpace()
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *textParser) expect(c byte) error {
	if p.peek() != c {
		return p.errf("expected %q", c)
	}
	p.pos++
	return nil
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func (p *textParser) word() string {
	start := p.pos
	for p.pos < len(p.src) && isWordChar(p.src[p.pos]) {
		p.pos++
	}
	return p.src[start:p.pos]
}

var keywordTypes = map[string]string{
	"boolean": "b", "byte": "y", "int16": "n", "uint16": "q", "int32": "i", "uint32": "u",
	"handle": "h", "int64": "x", "uint64": "t", "double": "d", "string": "s",
	"objectpath": "o", "signature": "g",
}

func (p *textParser) value(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, p.errf("nested too deeply")
	}
	c := p.peek()
	start := p.pos
	switch {
	case c == 0:
		return nil, p.errf("unexpected end of input")
	case c == '[':
		p.pos++
		n := &node{kind: nArray, pos: start}
		if p.peek() == ']' {
			p.pos++
			return n, nil
		}
		for {
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
			if p.peek() == ',' {
				p.pos++
				continue
			}
			if err := p.expect(']'); err != nil {
				return nil, err
			}
			return n, nil
		}
	case c == '(':
		p.pos++
		n := &node{kind: nTuple, pos: start}
		if p.peek() == ')' {
			p.pos++
			return n, nil
		}
		for {
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
			if p.peek() == ',' {
				p.pos++
				if p.peek() == ')' {
					p.pos++
					return n, nil
				}
				continue
			}
			if err := p.expect(')'); err != nil {
				return nil, err
			}
			return n, nil
		}
	case c == '{':
		p.pos++
		n := &node{kind: nDict, pos: start}
		if p.peek() == '}' {
			p.pos++
			return n, nil
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.peek() == ',' {
			p.pos++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := p.expect('}'); err != nil {
				return nil, err
			}
			return &node{kind: nEntry, kids: []*node{k, v}, pos: start}, nil
		}
		for {
			if err := p.expect(':'); err != nil {
				return nil, err
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k, v)
			if p.peek() == ',' {
				p.pos++
				if k, err = p.value(depth + 1); err != nil {
					return nil, err
				}
				continue
			}
			if err := p.expect('}'); err != nil {
				return nil, err
			}
			return n, nil
		}
	case c == '<':
		p.pos++
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect('>'); err != nil {
			return nil, err
		}
		return &node{kind: nVariant, kids: []*node{k}, pos: start}, nil
	case c == '@':
		p.pos++
		p.skipSpace()
		t, rest, err := parseType(p.src[p.pos:], 0)
		if err != nil {
			return nil, p.errf("bad type annotation: %v", err)
		}
		p.pos = len(p.src) - len(rest)
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		return &node{kind: nTyped, typ: t, kids: []*node{k}, pos: start}, nil
	case c == '\'' || c == '"':
		s, err := p.quoted(false)
		if err != nil {
			return nil, err
		}
		return &node{kind: nStr, str: s, pos: start}, nil
	case c == 'b' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == '\'' || p.src[p.pos+1] == '"'):
		p.pos++
		s, err := p.quoted(true)
		if err != nil {
			return nil, err
		}
		return &node{kind: nBytes, str: s, pos: start}, nil
	case c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.':
		p.pos++
		for p.pos < len(p.src) {
			d := p.src[p.pos]
			if isWordChar(d) || d == '.' || ((d == '-' || d == '+') && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E') && !strings.HasPrefix(strings.TrimLeft(p.src[start:], "+-"), "0x")) {
				p.pos++
				continue
			}
			break
		}
		return numNode(p.src[start:p.pos], start), nil
	case isWordChar(c):
		w := p.word()
		switch w {
		case "true", "false":
			return &node{kind: nBool, b: w == "true", pos: start}, nil
		case "nothing":
			return &node{kind: nNothing, pos: start}, nil
		case "just":
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			return &node{kind: nJust, kids: []*node{k}, pos: start}, nil
		case "inf", "nan":
			return numNode(w, start), nil
		}
		if sig, ok := keywordTypes[w]; ok {
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			return &node{kind: nTyped, typ: MustParseType(sig), kids: []*node{k}, pos: start}, nil
		}
		p.pos = start
		return nil, p.errf("unknown keyword %q", w)
	}
	return nil, p.errf("unexpected character %q", c)
}

func numNode(tok string, pos int) *node {
	t := strings.TrimLeft(tok, "+-")
	isHex := strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X")
	fl := strings.Contains(t, ".") || (!isHex && strings.ContainsAny(t, "eE")) ||
		strings.Contains(t, "inf") || strings.Contains(t, "nan")
	return &node{kind: nNum, text: tok, float: fl, pos: pos}
}

// quoted parses a quoted string starting at p.pos.
func (p *textParser) quoted(bytestring bool) (string, error) {
	q := p.src[p.pos]
	p.pos++
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			return "", p.errf("unterminated string")
		}
		c := p.src[p.pos]
		if c == q {
			p.pos++
			return b.String(), nil
		}
		if c != '\\' {
			b.WriteByte(c)
			p.pos++
			continue
		}
		p.pos++
		if p.pos >= len(p.src) {
			return "", p.errf("unterminated string")
		}
		c = p.src[p.pos]
		p.pos++
		switch c {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\n':
		case 'u', 'U':
			if bytestring {
				b.WriteByte(c)
				continue
			}
			n := 4
			if c == 'U' {
				n = 8
			}
			if p.pos+n > len(p.src) {
				return "", p.errf("invalid unicode escape")
			}
			r, err := strconv.ParseUint(p.src[p.pos:p.pos+n], 16, 32)
			if err != nil || r > utf8.MaxRune || (r >= 0xd800 && r < 0xe000) || r == 0 {
				return "", p.errf("invalid unicode escape")
			}
			p.pos += n
			b.WriteRune(rune(r))
		default:
			if bytestring && c >= '0' && c <= '7' {
				v := int(c - '0')
				for k := 0; k < 2 && p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '7'; k++ {
					v = v*8 + int(p.src[p.pos]-'0')
					p.pos++
				}
				b.WriteByte(byte(v))
				continue
			}
			b.WriteByte(c)
		}
	}
}

func (n *node) errf(format string, args ...any) error {
	return fmt.Errorf("gvariant: parse error at %d: %s", n.pos, fmt.Sprintf(format, args...))
}

// pattern computes GLib's type pattern for type inference.
func (n *node) pattern() (string, error) {
	switch n.kind {
	case nNum:
		if n.float {
			return "Md", nil
		}
		return "MN", nil
	case nBool:
		return "Mb", nil
	case nStr:
		return "MS", nil
	case nBytes:
		return "May", nil
	case nVariant:
		return "Mv", nil
	case nNothing:
		return "m*", nil
	case nJust:
		c, err := n.kids[0].pattern()
		return "m" + c, err
	case nTyped:
		return n.typ.sig, nil
	case nTuple:
		var b strings.Builder
		b.WriteString("M(")
		for _, k := range n.kids {
			c, err := k.pattern()
			if err != nil {
				return "", err
			}
			b.WriteString(c)
		}
		b.WriteByte(')')
		return b.String(), nil
	case nEntry:
		k, err := n.kids[0].pattern()
		if err != nil {
			return "", err
		}
		v, err := n.kids[1].pattern()
		if err != nil {
			return "", err
		}
		return "M{" + k + v + "}", nil
	case nArray:
		el, err := coalesceAll(n.kids, 0, 1)
		if err != nil {
			return "", err
		}
		return "Ma" + el, nil
	case nDict:
		k, err := coalesceAll(n.kids, 0, 2)
		if err != nil {
			return "", err
		}
		v, err := coalesceAll(n.kids, 1, 2)
		if err != nil {
			return "", err
		}
		return "Ma{" + k + v + "}", nil
	}
	return "", n.errf("bad node")
}

func coalesceAll(kids []*node, from, step int) (string, error) {
	pat := "*"
	for i := from; i < len(kids); i += step {
		c, err := kids[i].pattern()
		if err != nil {
			return "", err
		}
		m, ok := coalesce(pat, c)
		if !ok {
			return "", kids[i].errf("unable to find a common type")
		}
		pat = m
	}
	return pat, nil
}

// skipPatternType returns the length of the complete type at the start of
// a pattern (which may contain the pattern characters * M N S).
func skipPatternType(s string) int {
	i := 0
	for i < len(s) && (s[i] == 'a' || s[i] == 'm' || s[i] == 'M') {
		i++
	}
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '(', '{':
		close := byte(')')
		if s[i] == '{' {
			close = '}'
		}
		i++
		for i < len(s) && s[i] != close {
			l := skipPatternType(s[i:])
			if l < 0 {
				return -1
			}
			i += l
		}
		if i >= len(s) {
			return -1
		}
		return i + 1
	case ')', '}':
		return -1
	}
	return i + 1
}

// coalesce is a port of GLib's pattern_coalesce.
func coalesce(left, right string) (string, bool) {
	var out strings.Builder
	l, r := 0, 0
	for l < len(left) && r < len(right) {
		if left[l] == right[r] {
			out.WriteByte(left[l])
			l++
			r++
			continue
		}
		matched := false
		for swap := 0; swap < 2 && !matched; swap++ {
			one, other := &l, &r
			os, ts := left, right
			if swap == 1 {
				one, other = &r, &l
				os, ts = right, left
			}
			switch {
			case os[*one] == '*' && ts[*other] != ')' && ts[*other] != '}':
				k := skipPatternType(ts[*other:])
				if k < 0 {
					return "", false
				}
				out.WriteString(ts[*other : *other+k])
				*other += k
				*one++
				matched = true
			case os[*one] == 'M' && ts[*other] == 'm':
				out.WriteByte('m')
				*other++
				*one++
				matched = true
			case os[*one] == 'M' && ts[*other] != 'm' && ts[*other] != '*':
				*one++
				matched = true
			case os[*one] == 'N' && strings.IndexByte("ynqiuxthd", ts[*other]) >= 0:
				out.WriteByte(ts[*other])
				*other++
				*one++
				matched = true
			case os[*one] == 'S' && strings.IndexByte("sog", ts[*other]) >= 0:
				out.WriteByte(ts[*other])
				*other++
				*one++
				matched = true
			}
		}
		if !matched {
			return "", false
		}
	}
	if l < len(left) || r < len(right) {
		return "", false
	}
	return out.String(), true
}

// get converts the node to a Go value of type t.
func (n *node) get(t *Type) (any, error) {
	if t.kind == 'm' && n.kind != nJust && n.kind != nNothing && n.kind != nTyped {
		v, err := n.get(t.elem)
		if err != nil {
			return nil, err
		}
		return Maybe{Value: v, Valid: true}, nil
	}
	switch n.kind {
	case nTyped:
		if !n.typ.Equal(t) {
			if t.kind == 'm' && n.typ.Equal(t.elem) {
				v, err := n.kids[0].get(n.typ)
				return Maybe{Value: v, Valid: true}, err
			}
			return nil, n.errf("type %s does not match expected %s", n.typ.sig, t.sig)
		}
		return n.kids[0].get(t)
	case nJust:
		if t.kind != 'm' {
			break
		}
		v, err := n.kids[0].get(t.elem)
		if err != nil {
			return nil, err
		}
		return Maybe{Value: v, Valid: true}, nil
	case nNothing:
		if t.kind != 'm' {
			break
		}
		return Maybe{}, nil
	case nBool:
		if t.kind == 'b' {
			return n.b, nil
		}
	case nNum:
		return n.number(t)
	case nStr:
		switch t.kind {
		case 's':
			return n.str, validString(n, n.str)
		case 'o':
			if !isObjectPath(n.str) {
				return nil, n.errf("not a valid object path: %q", n.str)
			}
			return ObjectPath(n.str), nil
		case 'g':
			if !isSignature(n.str) {
				return nil, n.errf("not a valid signature: %q", n.str)
			}
			return Signature(n.str), nil
		}
	case nBytes:
		if t.kind == 'a' && t.elem.kind == 'y' {
			b := make([]byte, len(n.str)+1)
			copy(b, n.str)
			return b, nil
		}
	case nVariant:
		if t.kind == 'v' {
			v, err := resolveNode(n.kids[0])
			return v, err
		}
	case nArray:
		if t.kind != 'a' {
			break
		}
		if t.elem.kind == 'y' {
			b := make([]byte, len(n.kids))
			for i, k := range n.kids {
				v, err := k.get(t.elem)
				if err != nil {
					return nil, err
				}
				b[i], _ = v.(byte)
			}
			return b, nil
		}
		if t.elem.kind == '{' {
			out := make([]DictEntry, len(n.kids))
			for i, k := range n.kids {
				v, err := k.get(t.elem)
				if err != nil {
					return nil, err
				}
				out[i], _ = v.(DictEntry)
			}
			return out, nil
		}
		out := make([]any, len(n.kids))
		for i, k := range n.kids {
			v, err := k.get(t.elem)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case nDict:
		if t.kind != 'a' || t.elem.kind != '{' {
			break
		}
		out := make([]DictEntry, len(n.kids)/2)
		for i := range out {
			k, err := n.kids[2*i].get(t.elem.fields[0])
			if err != nil {
				return nil, err
			}
			v, err := n.kids[2*i+1].get(t.elem.fields[1])
			if err != nil {
				return nil, err
			}
			out[i] = DictEntry{Key: k, Value: v}
		}
		return out, nil
	case nEntry:
		if t.kind != '{' {
			break
		}
		k, err := n.kids[0].get(t.fields[0])
		if err != nil {
			return nil, err
		}
		v, err := n.kids[1].get(t.fields[1])
		if err != nil {
			return nil, err
		}
		return DictEntry{Key: k, Value: v}, nil
	case nTuple:
		if t.kind != '(' || len(t.fields) != len(n.kids) {
			break
		}
		out := make(Tuple, len(n.kids))
		for i, k := range n.kids {
			v, err := k.get(t.fields[i])
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, n.errf("value does not match type %s", t.sig)
}

// resolveNode infers the type of n the way GLib's ast_resolve does (used
// for the top level without a hint and for the content of <variants>).
func resolveNode(n *node) (Variant, error) {
	pat, err := n.pattern()
	if err != nil {
		return Variant{}, err
	}
	var b strings.Builder
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '*':
			return Variant{}, n.errf("unable to infer type")
		case 'M':
		case 'S':
			b.WriteByte('s')
		case 'N':
			b.WriteByte('i')
		default:
			b.WriteByte(c)
		}
	}
	t, err := ParseType(b.String())
	if err != nil {
		return Variant{}, n.errf("inferred bad type %q", b.String())
	}
	v, err := n.get(t)
	if err != nil {
		return Variant{}, err
	}
	return Variant{Type: t, Value: v}, nil
}

func validString(n *node, s string) error {
	if !utf8.ValidString(s) {
		return n.errf("invalid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return n.errf("NUL in string")
	}
	return nil
}

func (n *node) number(t *Type) (any, error) {
	tok := n.text
	if t.kind == 'd' {
		s := strings.ToLower(tok)
		switch strings.TrimLeft(s, "+-") {
		case "inf", "infinity", "nan":
			f := math.Inf(1)
			if strings.HasSuffix(s, "nan") {
				f = math.Float64frombits(0x7ff8000000000000) // C's NAN
			}
			if strings.HasPrefix(s, "-") {
				f = -f
			}
			return f, nil
		}
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return f, nil
			}
			return nil, n.errf("invalid double %q", tok)
		}
		return f, nil
	}
	if strings.IndexByte("ynqiuxth", t.kind) < 0 {
		return nil, n.errf("number where %s expected", t.sig)
	}
	if n.float {
		return nil, n.errf("floating point number where integer expected")
	}
	neg := false
	s := tok
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	switch {
	case len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	abs, err := strconv.ParseUint(s, base, 64)
	if err != nil || s == "" || strings.IndexByte(s, '_') >= 0 {
		return nil, n.errf("invalid number %q", tok)
	}
	if abs == 0 {
		neg = false
	}
	rangeErr := n.errf("number %s out of range for type %s", tok, t.sig)
	switch t.kind {
	case 'y':
		if neg || abs > math.MaxUint8 {
			return nil, rangeErr
		}
		return byte(abs), nil
	case 'q':
		if neg || abs > math.MaxUint16 {
			return nil, rangeErr
		}
		return uint16(abs), nil
	case 'u':
		if neg || abs > math.MaxUint32 {
			return nil, rangeErr
		}
		return uint32(abs), nil
	case 't':
		if neg {
			return nil, rangeErr
		}
		return abs, nil
	}
	var lim uint64
	switch t.kind {
	case 'n':
		lim = math.MaxInt16
	case 'i', 'h':
		lim = math.MaxInt32
	default:
		lim = math.MaxInt64
	}
	if neg {
		lim++
	}
	if abs > lim {
		return nil, rangeErr
	}
	v := int64(abs)
	if neg {
		v = int64(-abs) // two's complement handles MinInt64
	}
	switch t.kind {
	case 'n':
		return int16(v), nil
	case 'i', 'h':
		return int32(v), nil
	}
	return v, nil
}
