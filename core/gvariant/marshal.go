package gvariant

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// Marshal serialises v as type t in normal form (zero padding, minimal
// framing offset width). It returns an error wrapping ErrType, and never
// panics, if v does not match t. See the package documentation for the Go
// representation of each type.
func Marshal(t *Type, v any) ([]byte, error) {
	return AppendMarshal(nil, t, v)
}

// AppendMarshal appends the serialisation of v to buf. Alignment is
// relative to len(buf) at the time of the call, so the caller should pass
// a buffer whose length corresponds to an 8-aligned position in the
// final stream (e.g. an empty buffer). On error buf is returned truncated to
// its original length.
func AppendMarshal(buf []byte, t *Type, v any) ([]byte, error) {
	if t == nil {
		return buf, fmt.Errorf("%w: nil type", ErrType)
	}
	e := encoder{buf: buf, origin: len(buf)}
	if err := e.put(t, v, 0); err != nil {
		return buf[:e.origin], err
	}
	return e.buf, nil
}

type encoder struct {
	buf    []byte
	origin int
	offs   []int // stack of pending framing offsets
}

func mismatch(t *Type, v any) error {
	return fmt.Errorf("%w: cannot marshal %T as %q", ErrType, v, t.sig)
}

func (e *encoder) pad(a uint8) {
	for (len(e.buf)-e.origin)&(int(a)-1) != 0 {
		e.buf = append(e.buf, 0)
	}
}

// asInt converts a plain Go int for convenience.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	}
	return 0, false
}

func (e *encoder) put(t *Type, v any, depth int) error {
	switch t.kind {
	case 'y':
		switch x := v.(type) {
		case byte:
			e.buf = append(e.buf, x)
			return nil
		}
		if n, ok := asInt(v); ok && n >= 0 && n <= math.MaxUint8 {
			e.buf = append(e.buf, byte(n))
			return nil
		}
	case 'b':
		if x, ok := v.(bool); ok {
			if x {
				e.buf = append(e.buf, 1)
			} else {
				e.buf = append(e.buf, 0)
			}
			return nil
		}
	case 'n':
		x, ok := v.(int16)
		if !ok {
			n, ok2 := asInt(v)
			if !ok2 || n < math.MinInt16 || n > math.MaxInt16 {
				break
			}
			x = int16(n)
		}
		e.pad(2)
		e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(x))
		return nil
	case 'q':
		x, ok := v.(uint16)
		if !ok {
			n, ok2 := asInt(v)
			if !ok2 || n < 0 || n > math.MaxUint16 {
				break
			}
			x = uint16(n)
		}
		e.pad(2)
		e.buf = binary.LittleEndian.AppendUint16(e.buf, x)
		return nil
	case 'i', 'h':
		x, ok := v.(int32)
		if !ok {
			n, ok2 := asInt(v)
			if !ok2 || n < math.MinInt32 || n > math.MaxInt32 {
				break
			}
			x = int32(n)
		}
		e.pad(4)
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(x))
		return nil
	case 'u':
		x, ok := v.(uint32)
		if !ok {
			n, ok2 := asInt(v)
			if !ok2 || n < 0 || n > math.MaxUint32 {
				break
			}
			x = uint32(n)
		}
		e.pad(4)
		e.buf = binary.LittleEndian.AppendUint32(e.buf, x)
		return nil
	case 'x':
		x, ok := v.(int64)
		if !ok {
			n, ok2 := asInt(v)
			if !ok2 {
				break
			}
			x = n
		}
		e.pad(8)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(x))
		return nil
	case 't':
		x, ok := v.(uint64)
		if !ok {
			n, ok2 := asInt(v)
			if !ok2 || n < 0 {
				break
			}
			x = uint64(n)
		}
		e.pad(8)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, x)
		return nil
	case 'd':
		x, ok := v.(float64)
		if !ok {
			break
		}
		e.pad(8)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(x))
		return nil
	case 's':
		s, ok := v.(string)
		if !ok {
			break
		}
		return e.putString(t, s)
	case 'o':
		var s string
		switch x := v.(type) {
		case ObjectPath:
			s = string(x)
		case string:
			s = x
		default:
			return mismatch(t, v)
		}
		if !isObjectPath(s) {
			return fmt.Errorf("%w: invalid object path %q", ErrType, s)
		}
		return e.putString(t, s)
	case 'g':
		var s string
		switch x := v.(type) {
		case Signature:
			s = string(x)
		case string:
			s = x
		default:
			return mismatch(t, v)
		}
		if !isSignature(s) {
			return fmt.Errorf("%w: invalid signature %q", ErrType, s)
		}
		return e.putString(t, s)
	case 'v':
		var x Variant
		switch y := v.(type) {
		case Variant:
			x = y
		case *Variant:
			if y == nil {
				return mismatch(t, v)
			}
			x = *y
		default:
			return mismatch(t, v)
		}
		if x.Type == nil {
			return fmt.Errorf("%w: variant with nil type", ErrType)
		}
		if depth >= maxDepth {
			return fmt.Errorf("%w: variants nested too deeply", ErrType)
		}
		e.pad(8)
		if err := e.put(x.Type, x.Value, depth+1); err != nil {
			return err
		}
		e.buf = append(e.buf, 0)
		e.buf = append(e.buf, x.Type.sig...)
		return nil
	case 'm':
		var m Maybe
		switch y := v.(type) {
		case Maybe:
			m = y
		case nil:
		default:
			return mismatch(t, v)
		}
		e.pad(t.align)
		if !m.Valid {
			return nil
		}
		if err := e.put(t.elem, m.Value, depth); err != nil {
			return err
		}
		if t.elem.fixed == 0 {
			e.buf = append(e.buf, 0)
		}
		return nil
	case 'a':
		return e.putArray(t, v, depth)
	case '(', '{':
		var fs []any
		switch y := v.(type) {
		case Tuple:
			fs = y
		case []any:
			fs = y
		case DictEntry:
			if t.kind != '{' {
				return mismatch(t, v)
			}
			e.pad(t.align)
			start := len(e.buf)
			if err := e.put(t.fields[0], y.Key, depth); err != nil {
				return err
			}
			return e.finishEntry(t, start, y.Value, depth)
		default:
			return mismatch(t, v)
		}
		if len(fs) != len(t.fields) {
			return fmt.Errorf("%w: %d values for tuple type %q", ErrType, len(fs), t.sig)
		}
		e.pad(t.align)
		start := len(e.buf)
		if t.kind == '{' {
			if err := e.put(t.fields[0], fs[0], depth); err != nil {
				return err
			}
			return e.finishEntry(t, start, fs[1], depth)
		}
		mark := len(e.offs)
		last := len(t.fields) - 1
		for i, f := range t.fields {
			if err := e.put(f, fs[i], depth); err != nil {
				e.offs = e.offs[:mark]
				return err
			}
			if f.fixed == 0 && i != last {
				e.offs = append(e.offs, len(e.buf)-start)
			}
		}
		e.finishTuple(t, start, mark)
		return nil
	}
	return mismatch(t, v)
}

// finishEntry writes the value of a dict entry whose key has been written.
func (e *encoder) finishEntry(t *Type, start int, val any, depth int) error {
	mark := len(e.offs)
	if t.fields[0].fixed == 0 {
		e.offs = append(e.offs, len(e.buf)-start)
	}
	if err := e.put(t.fields[1], val, depth); err != nil {
		e.offs = e.offs[:mark]
		return err
	}
	e.finishTuple(t, start, mark)
	return nil
}

// finishTuple pads a fixed-size tuple or appends the framing offsets
// (in reverse order) of a variable-size one.
func (e *encoder) finishTuple(t *Type, start, mark int) {
	if t.fixed != 0 {
		for len(e.buf)-start < t.fixed {
			e.buf = append(e.buf, 0)
		}
		return
	}
	offs := e.offs[mark:]
	if len(offs) > 0 {
		w := offsetWidthFor(len(e.buf)-start, len(offs))
		for i := len(offs) - 1; i >= 0; i-- {
			e.appendOffset(offs[i], w)
		}
	}
	e.offs = e.offs[:mark]
}

func (e *encoder) appendOffset(o, w int) {
	switch w {
	case 1:
		e.buf = append(e.buf, byte(o))
	case 2:
		e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(o))
	case 4:
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(o))
	default:
		e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(o))
	}
}

// offsetWidthFor returns the framing offset width a writer must use for a
// container with the given body size and number of offsets.
func offsetWidthFor(body, k int) int {
	switch {
	case uint64(body)+uint64(k) <= math.MaxUint8:
		return 1
	case uint64(body)+2*uint64(k) <= math.MaxUint16:
		return 2
	case uint64(body)+4*uint64(k) <= math.MaxUint32:
		return 4
	}
	return 8
}

// offsetWidth returns the framing offset width a reader derives from a
// container's total size.
func offsetWidth(size int) int {
	switch {
	case size == 0:
		return 0
	case size <= math.MaxUint8:
		return 1
	case size <= math.MaxUint16:
		return 2
	case uint64(size) <= math.MaxUint32:
		return 4
	}
	return 8
}

func (e *encoder) putString(t *Type, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: invalid UTF-8 in %q value", ErrType, t.sig)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return fmt.Errorf("%w: NUL byte in %q value", ErrType, t.sig)
		}
	}
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, 0)
	return nil
}

func (e *encoder) putArray(t *Type, v any, depth int) error {
	el := t.elem
	e.pad(t.align)
	start := len(e.buf)
	if el.kind == 'y' {
		if b, ok := v.([]byte); ok {
			e.buf = append(e.buf, b...)
			return nil
		}
	}
	var n int
	var at func(i int) any
	switch x := v.(type) {
	case []any:
		n, at = len(x), func(i int) any { return x[i] }
	case []string:
		if el.kind != 's' && el.kind != 'o' && el.kind != 'g' {
			return mismatch(t, v)
		}
		if el.kind == 's' {
			mark := len(e.offs)
			for _, s := range x {
				if err := e.putString(el, s); err != nil {
					e.offs = e.offs[:mark]
					return err
				}
				e.offs = append(e.offs, len(e.buf)-start)
			}
			e.finishArray(start, mark)
			return nil
		}
		n, at = len(x), func(i int) any { return x[i] }
	case [][]byte:
		if el.kind != 'a' || el.elem.kind != 'y' {
			return mismatch(t, v)
		}
		mark := len(e.offs)
		for _, b := range x {
			e.buf = append(e.buf, b...)
			e.offs = append(e.offs, len(e.buf)-start)
		}
		e.finishArray(start, mark)
		return nil
	case []DictEntry:
		n, at = len(x), func(i int) any { return x[i] }
	case []Tuple:
		n, at = len(x), func(i int) any { return x[i] }
	case []Variant:
		n, at = len(x), func(i int) any { return x[i] }
	case nil:
		return nil
	default:
		return mismatch(t, v)
	}
	if el.fixed != 0 {
		for i := 0; i < n; i++ {
			if err := e.put(el, at(i), depth); err != nil {
				return err
			}
		}
		return nil
	}
	mark := len(e.offs)
	for i := 0; i < n; i++ {
		if err := e.put(el, at(i), depth); err != nil {
			e.offs = e.offs[:mark]
			return err
		}
		e.offs = append(e.offs, len(e.buf)-start)
	}
	e.finishArray(start, mark)
	return nil
}

func (e *encoder) finishArray(start, mark int) {
	offs := e.offs[mark:]
	if len(offs) > 0 {
		w := offsetWidthFor(len(e.buf)-start, len(offs))
		for _, o := range offs {
			e.appendOffset(o, w)
		}
	}
	e.offs = e.offs[:mark]
}

// isObjectPath reports whether s is a valid D-Bus object path.
func isObjectPath(s string) bool {
	if s == "" || s[0] != '/' {
		return false
	}
	if s == "/" {
		return true
	}
	prevSlash := true
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == '/' {
			if prevSlash {
				return false
			}
			prevSlash = true
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
		prevSlash = false
	}
	return !prevSlash
}

// isSignature reports whether s is a valid D-Bus signature as GLib
// understands it: a sequence of complete definite types without maybes.
func isSignature(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'y', 'b', 'n', 'q', 'i', 'u', 'x', 't', 'h', 'd', 'v', 'a', 's', 'o', 'g', '(', ')', '{', '}':
		default:
			return false
		}
	}
	for s != "" {
		_, rest, err := parseType(s, 0)
		if err != nil {
			return false
		}
		s = rest
	}
	return true
}
