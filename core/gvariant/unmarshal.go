package gvariant

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"
)

// Unmarshal parses data, which must start at an 8-aligned position, as a
// value of type t and returns its Go representation (see the package
// documentation). Only GLib normal form is accepted: any other input yields
// an error wrapping ErrNotNormal or ErrTruncated, as a *DataError giving
// the byte offset. Unmarshal never panics and allocates at most in
// proportion to len(data). Byte arrays and strings are copied; the result
// never aliases data.
func Unmarshal(t *Type, data []byte) (any, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil type", ErrType)
	}
	d := decoder{data: data}
	return d.value(t, 0, len(data), 0)
}

// IsNormal reports whether data is the normal-form serialisation of some
// value of type t, like g_variant_is_normal_form.
func IsNormal(t *Type, data []byte) bool {
	if t == nil {
		return false
	}
	d := decoder{data: data, check: true}
	_, err := d.value(t, 0, len(data), 0)
	return err == nil
}

const errTupleTooSmall = "tuple of %d bytes too small for its framing offsets"

type decoder struct {
	data  []byte
	check bool // validate only, build no values
}

func (d *decoder) errf(kind error, off int, t *Type, format string, args ...any) error {
	return &DataError{Err: kind, Offset: off, Type: t.sig, Detail: fmt.Sprintf(format, args...)}
}

// readOffset reads a framing offset of width w at position p.
func (d *decoder) readOffset(p, w int) uint64 {
	b := d.data[p : p+w]
	switch w {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// zeros checks that data[from:to] is all zero padding.
func (d *decoder) zeros(t *Type, from, to int) error {
	for i := from; i < to; i++ {
		if d.data[i] != 0 {
			return d.errf(ErrNotNormal, i, t, "non-zero padding byte 0x%02x", d.data[i])
		}
	}
	return nil
}

// value decodes data[start:end] as t. depth is the GLib value depth.
func (d *decoder) value(t *Type, start, end, depth int) (any, error) {
	size := end - start
	if t.fixed != 0 {
		if size != t.fixed {
			if size < t.fixed {
				return nil, d.errf(ErrTruncated, start, t, "%d bytes for fixed-size type of %d bytes", size, t.fixed)
			}
			return nil, d.errf(ErrNotNormal, start, t, "%d bytes for fixed-size type of %d bytes", size, t.fixed)
		}
		return d.fixedValue(t, start)
	}
	switch t.kind {
	case 's', 'o', 'g':
		if size == 0 {
			return nil, d.errf(ErrTruncated, start, t, "empty string data (missing NUL)")
		}
		if d.data[end-1] != 0 {
			return nil, d.errf(ErrNotNormal, end-1, t, "string not NUL-terminated")
		}
		b := d.data[start : end-1]
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return nil, d.errf(ErrNotNormal, start+i, t, "interior NUL in string")
		}
		if !utf8.Valid(b) {
			return nil, d.errf(ErrNotNormal, start, t, "invalid UTF-8 in string")
		}
		switch t.kind {
		case 'o':
			if !isObjectPath(string(b)) {
				return nil, d.errf(ErrNotNormal, start, t, "invalid object path")
			}
			if d.check {
				return nil, nil
			}
			return ObjectPath(b), nil
		case 'g':
			if !isSignature(string(b)) {
				return nil, d.errf(ErrNotNormal, start, t, "invalid signature")
			}
			if d.check {
				return nil, nil
			}
			return Signature(b), nil
		}
		if d.check {
			return nil, nil
		}
		return string(b), nil
	case 'v':
		if size == 0 {
			return nil, d.errf(ErrTruncated, start, t, "empty variant")
		}
		nul := bytes.LastIndexByte(d.data[start:end], 0)
		if nul < 0 {
			return nil, d.errf(ErrNotNormal, start, t, "variant without type string separator")
		}
		nul += start
		ct, err := ParseType(string(d.data[nul+1 : end]))
		if err != nil {
			return nil, d.errf(ErrNotNormal, nul+1, t, "bad variant type string: %v", err)
		}
		if depth+1+ct.depth > maxDepth {
			return nil, d.errf(ErrNotNormal, start, t, "values nested too deeply")
		}
		cv, err := d.value(ct, start, nul, depth+1)
		if err != nil {
			return nil, err
		}
		if d.check {
			return nil, nil
		}
		return Variant{Type: ct, Value: cv}, nil
	case 'm':
		if size == 0 {
			return Maybe{}, nil
		}
		cend := end
		if t.elem.fixed == 0 {
			if d.data[end-1] != 0 {
				return nil, d.errf(ErrNotNormal, end-1, t, "maybe value not terminated by NUL")
			}
			cend--
		}
		cv, err := d.value(t.elem, start, cend, depth+1)
		if err != nil {
			return nil, err
		}
		if d.check {
			return nil, nil
		}
		return Maybe{Value: cv, Valid: true}, nil
	case 'a':
		return d.array(t, start, end, depth)
	case '(', '{':
		return d.tuple(t, start, end, depth)
	}
	return nil, d.errf(ErrNotNormal, start, t, "unsupported type")
}

func (d *decoder) fixedValue(t *Type, p int) (any, error) {
	b := d.data[p : p+t.fixed]
	switch t.kind {
	case 'y':
		return b[0], nil
	case 'b':
		if b[0] > 1 {
			return nil, d.errf(ErrNotNormal, p, t, "boolean byte 0x%02x", b[0])
		}
		return b[0] == 1, nil
	case 'n':
		return int16(binary.LittleEndian.Uint16(b)), nil
	case 'q':
		return binary.LittleEndian.Uint16(b), nil
	case 'i', 'h':
		return int32(binary.LittleEndian.Uint32(b)), nil
	case 'u':
		return binary.LittleEndian.Uint32(b), nil
	case 'x':
		return int64(binary.LittleEndian.Uint64(b)), nil
	case 't':
		return binary.LittleEndian.Uint64(b), nil
	case 'd':
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	case '(', '{':
		var out Tuple
		if !d.check {
			out = make(Tuple, len(t.fields))
		}
		off := 0
		for i, f := range t.fields {
			n := alignUp(off, int(f.align))
			if err := d.zeros(t, p+off, p+n); err != nil {
				return nil, err
			}
			v, err := d.fixedValue(f, p+n)
			if err != nil {
				return nil, err
			}
			if out != nil {
				out[i] = v
			}
			off = n + f.fixed
		}
		if err := d.zeros(t, p+off, p+t.fixed); err != nil {
			return nil, err
		}
		if t.kind == '{' && out != nil {
			return DictEntry{Key: out[0], Value: out[1]}, nil
		}
		return out, nil
	}
	return nil, d.errf(ErrNotNormal, p, t, "unsupported fixed type")
}

func (d *decoder) tuple(t *Type, start, end, depth int) (any, error) {
	size := end - start
	w := offsetWidth(size)
	if size < t.nvar*w || (t.nvar > 0 && size == 0) {
		// Note: GLib's g_variant_is_normal_form accepts a zero-length
		// tuple whose members may all be empty (it reads 0-width offsets
		// as 0), but the canonical serialisation of that value is not
		// empty, so it is rejected here.
		return nil, d.errf(ErrTruncated, start, t, errTupleTooSmall, size)
	}
	table := end - t.nvar*w
	if t.nvar > 0 && offsetWidthFor(table-start, t.nvar) != w {
		return nil, d.errf(ErrNotNormal, table, t, "framing offsets wider than needed")
	}
	var out Tuple
	if !d.check {
		out = make(Tuple, len(t.fields))
	}
	pos := start
	k := 0
	last := len(t.fields) - 1
	for i, f := range t.fields {
		n := start + alignUp(pos-start, int(f.align))
		if n > table {
			return nil, d.errf(ErrNotNormal, pos, t, "member %d starts beyond the framing offsets", i)
		}
		if err := d.zeros(t, pos, n); err != nil {
			return nil, err
		}
		var fend int
		switch {
		case f.fixed != 0:
			fend = n + f.fixed
			if fend > table {
				return nil, d.errf(ErrTruncated, n, t, "member %d extends beyond the framing offsets", i)
			}
		case i != last:
			k++
			o := d.readOffset(end-k*w, w)
			if o > uint64(table-start) || int(o) < n-start {
				return nil, d.errf(ErrNotNormal, end-k*w, t, "framing offset %d of member %d out of range", o, i)
			}
			fend = start + int(o)
		default:
			fend = table
		}
		v, err := d.value(f, n, fend, depth+1)
		if err != nil {
			return nil, err
		}
		if out != nil {
			out[i] = v
		}
		pos = fend
	}
	if pos != table {
		return nil, d.errf(ErrNotNormal, pos, t, "%d slack bytes in tuple", table-pos)
	}
	if t.kind == '{' && out != nil {
		return DictEntry{Key: out[0], Value: out[1]}, nil
	}
	return out, nil
}

func (d *decoder) array(t *Type, start, end, depth int) (any, error) {
	size := end - start
	el := t.elem
	if el.fixed != 0 {
		if size%el.fixed != 0 {
			return nil, d.errf(ErrNotNormal, start, t, "array of %d bytes is not a multiple of element size %d", size, el.fixed)
		}
		if el.kind == 'y' {
			if d.check {
				return nil, nil
			}
			b := make([]byte, size)
			copy(b, d.data[start:end])
			return b, nil
		}
		n := size / el.fixed
		if d.check {
			for i := 0; i < n; i++ {
				if _, err := d.fixedValue(el, start+i*el.fixed); err != nil {
					return nil, err
				}
			}
			return nil, nil
		}
		if el.kind == '{' {
			out := make([]DictEntry, n)
			for i := range out {
				v, err := d.fixedValue(el, start+i*el.fixed)
				if err != nil {
					return nil, err
				}
				out[i], _ = v.(DictEntry)
			}
			return out, nil
		}
		out := make([]any, n)
		for i := range out {
			v, err := d.fixedValue(el, start+i*el.fixed)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	if size == 0 {
		if d.check {
			return nil, nil
		}
		if el.kind == '{' {
			return []DictEntry{}, nil
		}
		return []any{}, nil
	}
	w := offsetWidth(size)
	if size < w {
		return nil, d.errf(ErrTruncated, start, t, "array too small for its framing offsets")
	}
	lastEnd := d.readOffset(end-w, w)
	if lastEnd > uint64(size-w) || (uint64(size)-lastEnd)%uint64(w) != 0 {
		return nil, d.errf(ErrNotNormal, end-w, t, "bad last framing offset %d", lastEnd)
	}
	table := start + int(lastEnd)
	n := (end - table) / w
	if offsetWidthFor(int(lastEnd), n) != w {
		return nil, d.errf(ErrNotNormal, table, t, "framing offsets wider than needed")
	}
	var dict []DictEntry
	var list []any
	if !d.check {
		if el.kind == '{' {
			dict = make([]DictEntry, n)
		} else {
			list = make([]any, n)
		}
	}
	pos := start
	for i := 0; i < n; i++ {
		s := start + alignUp(pos-start, int(el.align))
		if s > table {
			return nil, d.errf(ErrNotNormal, pos, t, "element %d starts beyond the framing offsets", i)
		}
		if err := d.zeros(t, pos, s); err != nil {
			return nil, err
		}
		o := d.readOffset(table+i*w, w)
		if o > lastEnd || int(o) < s-start {
			return nil, d.errf(ErrNotNormal, table+i*w, t, "framing offset %d of element %d out of order or range", o, i)
		}
		e := start + int(o)
		v, err := d.value(el, s, e, depth+1)
		if err != nil {
			return nil, err
		}
		if dict != nil {
			dict[i], _ = v.(DictEntry)
		} else if list != nil {
			list[i] = v
		}
		pos = e
	}
	if d.check {
		return nil, nil
	}
	if dict != nil {
		return dict, nil
	}
	return list, nil
}
