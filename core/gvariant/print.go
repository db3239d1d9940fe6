package gvariant

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Print formats v (of type t) in GVariant text format exactly like GLib's
// g_variant_print(value, annotate). Values that do not match t are printed
// as "<invalid>" fragments rather than causing a panic.
func Print(t *Type, v any, annotate bool) string {
	var sb strings.Builder
	printValue(&sb, t, v, annotate, 0)
	return sb.String()
}

func printValue(sb *strings.Builder, t *Type, v any, annotate bool, depth int) {
	if t == nil || depth > 2*maxDepth {
		sb.WriteString("<invalid>")
		return
	}
	switch t.kind {
	case 'm':
		if annotate {
			sb.WriteString("@" + t.sig + " ")
		}
		m, _ := v.(Maybe)
		if !m.Valid {
			sb.WriteString("nothing")
			return
		}
		child := Print(t.elem, m.Value, false)
		if strings.HasSuffix(child, "nothing") {
			sb.WriteString("just ")
		}
		sb.WriteString(child)
	case 'a':
		printArray(sb, t, v, annotate, depth)
	case '(', '{':
		var fs []any
		switch x := v.(type) {
		case Tuple:
			fs = x
		case []any:
			fs = x
		case DictEntry:
			fs = []any{x.Key, x.Value}
		}
		if len(fs) != len(t.fields) {
			sb.WriteString("<invalid>")
			return
		}
		if t.kind == '{' {
			sb.WriteByte('{')
			printValue(sb, t.fields[0], fs[0], annotate, depth+1)
			sb.WriteString(", ")
			printValue(sb, t.fields[1], fs[1], annotate, depth+1)
			sb.WriteByte('}')
			return
		}
		sb.WriteByte('(')
		for i, f := range t.fields {
			if i > 0 {
				sb.WriteString(", ")
			}
			printValue(sb, f, fs[i], annotate, depth+1)
		}
		if len(fs) == 1 {
			sb.WriteByte(',')
		}
		sb.WriteByte(')')
	case 'v':
		var x Variant
		switch y := v.(type) {
		case Variant:
			x = y
		case *Variant:
			if y != nil {
				x = *y
			}
		}
		sb.WriteByte('<')
		printValue(sb, x.Type, x.Value, true, depth+1)
		sb.WriteByte('>')
	case 'b':
		if b, _ := v.(bool); b {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case 's':
		s, _ := v.(string)
		printString(sb, s)
	case 'o', 'g':
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case ObjectPath:
			s = string(x)
		case Signature:
			s = string(x)
		}
		if annotate {
			if t.kind == 'o' {
				sb.WriteString("objectpath ")
			} else {
				sb.WriteString("signature ")
			}
		}
		sb.WriteString("'" + s + "'")
	case 'y':
		if annotate {
			sb.WriteString("byte ")
		}
		b, _ := intOf(v)
		fmt.Fprintf(sb, "0x%02x", uint8(b))
	case 'n', 'q', 'i', 'u', 'x', 't', 'h':
		if annotate {
			switch t.kind {
			case 'n':
				sb.WriteString("int16 ")
			case 'q':
				sb.WriteString("uint16 ")
			case 'u':
				sb.WriteString("uint32 ")
			case 'x':
				sb.WriteString("int64 ")
			case 't':
				sb.WriteString("uint64 ")
			case 'h':
				sb.WriteString("handle ")
			}
		}
		if t.kind == 't' {
			u, _ := v.(uint64)
			if n, ok := v.(int); ok {
				u = uint64(n)
			}
			sb.WriteString(strconv.FormatUint(u, 10))
			return
		}
		n, _ := intOf(v)
		sb.WriteString(strconv.FormatInt(n, 10))
	case 'd':
		f, _ := v.(float64)
		sb.WriteString(formatDouble(f))
	default:
		sb.WriteString("<invalid>")
	}
}

func intOf(v any) (int64, bool) {
	switch x := v.(type) {
	case byte:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		return int64(x), true
	case int:
		return int64(x), true
	}
	return 0, false
}

// formatDouble mimics g_ascii_dtostr ("%.17g") plus GLib's rule of
// appending ".0" when the result has neither '.' nor 'e'.
func formatDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	}
	s := strconv.FormatFloat(f, 'g', 17, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

func isPrint(r rune) bool {
	return unicode.IsGraphic(r) || unicode.In(r, unicode.Zl, unicode.Zp, unicode.Co)
}

// printString quotes s the way g_variant_print does for type "s".
func printString(sb *strings.Builder, s string) {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 {
		quote = '"'
	}
	sb.WriteByte(quote)
	for _, r := range s {
		if r == rune(quote) || r == '\\' {
			sb.WriteByte('\\')
		}
		if r != utf8.RuneError && isPrint(r) {
			sb.WriteRune(r)
			continue
		}
		sb.WriteByte('\\')
		switch r {
		case '\a':
			sb.WriteByte('a')
		case '\b':
			sb.WriteByte('b')
		case '\f':
			sb.WriteByte('f')
		case '\n':
			sb.WriteByte('n')
		case '\r':
			sb.WriteByte('r')
		case '\t':
			sb.WriteByte('t')
		case '\v':
			sb.WriteByte('v')
		default:
			if r < 0x10000 {
				fmt.Fprintf(sb, "u%04x", r)
			} else {
				fmt.Fprintf(sb, "U%08x", r)
			}
		}
	}
	sb.WriteByte(quote)
}

// strescape mimics g_strescape(s, NULL).
func strescape(sb *strings.Builder, b []byte) {
	for _, c := range b {
		switch c {
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		case '\v':
			sb.WriteString(`\v`)
		case '\\':
			sb.WriteString(`\\`)
		case '"':
			sb.WriteString(`\"`)
		default:
			if c < ' ' || c >= 0x7f {
				sb.WriteByte('\\')
				sb.WriteByte('0' + c>>6)
				sb.WriteByte('0' + c>>3&7)
				sb.WriteByte('0' + c&7)
			} else {
				sb.WriteByte(c)
			}
		}
	}
}

// arrayLen returns the number of elements and an accessor for the Go
// representations Marshal accepts for arrays.
func arrayElems(v any) (int, func(int) any) {
	switch x := v.(type) {
	case []any:
		return len(x), func(i int) any { return x[i] }
	case []byte:
		return len(x), func(i int) any { return x[i] }
	case []string:
		return len(x), func(i int) any { return x[i] }
	case [][]byte:
		return len(x), func(i int) any { return x[i] }
	case []DictEntry:
		return len(x), func(i int) any { return x[i] }
	case []Tuple:
		return len(x), func(i int) any { return x[i] }
	case []Variant:
		return len(x), func(i int) any { return x[i] }
	}
	return 0, nil
}

func printArray(sb *strings.Builder, t *Type, v any, annotate bool, depth int) {
	if t.elem.kind == 'y' {
		var b []byte
		switch x := v.(type) {
		case []byte:
			b = x
		case []any:
			b = make([]byte, 0, len(x))
			for _, e := range x {
				c, _ := e.(byte)
				b = append(b, c)
			}
		}
		if i := strings.IndexByte(string(b), 0); len(b) > 0 && i == len(b)-1 {
			body := b[:len(b)-1]
			if strings.IndexByte(string(body), '\'') >= 0 {
				sb.WriteString(`b"`)
				strescape(sb, body)
				sb.WriteByte('"')
			} else {
				sb.WriteString(`b'`)
				strescape(sb, body)
				sb.WriteByte('\'')
			}
			return
		}
	}
	n, at := arrayElems(v)
	if n == 0 {
		if annotate {
			sb.WriteString("@" + t.sig + " ")
		}
		if t.elem.kind == '{' {
			sb.WriteString("{}")
		} else {
			sb.WriteString("[]")
		}
		return
	}
	if t.elem.kind == '{' {
		sb.WriteByte('{')
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			var k, val any
			switch e := at(i).(type) {
			case DictEntry:
				k, val = e.Key, e.Value
			case Tuple:
				if len(e) == 2 {
					k, val = e[0], e[1]
				}
			}
			printValue(sb, t.elem.fields[0], k, annotate, depth+1)
			sb.WriteString(": ")
			printValue(sb, t.elem.fields[1], val, annotate, depth+1)
			annotate = false
		}
		sb.WriteByte('}')
		return
	}
	sb.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteString(", ")
		}
		printValue(sb, t.elem, at(i), annotate, depth+1)
		annotate = false
	}
	sb.WriteByte(']')
}
