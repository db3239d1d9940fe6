package gvariant

import (
	"errors"
	"fmt"
)

// ObjectPath is the Go representation of a D-Bus object path ("o").
type ObjectPath string

// Signature is the Go representation of a D-Bus type signature ("g").
type Signature string

// Variant is a value together with its type ("v").
type Variant struct {
	Type  *Type
	Value any
}

// DictEntry is one entry of a dictionary ("a{KV}").
type DictEntry struct {
	Key, Value any
}

// Tuple is the Go representation of a tuple ("(...)") or, when given to
// Marshal, also of a dict entry ("{KV}").
type Tuple []any

// Maybe is the Go representation of a maybe type ("mT").
type Maybe struct {
	Value any
	Valid bool
}

// Errors returned by this package. Errors from Unmarshal wrap ErrNotNormal
// or ErrTruncated; errors about values not matching a type wrap ErrType.
var (
	ErrNotNormal = errors.New("gvariant: data not in normal form")
	ErrTruncated = errors.New("gvariant: data truncated")
	ErrType      = errors.New("gvariant: type mismatch")
)

// DataError describes where in the input Unmarshal failed.
type DataError struct {
	Err    error  // ErrNotNormal or ErrTruncated
	Offset int    // byte offset in the outermost value
	Type   string // type being decoded
	Detail string
}

func (e *DataError) Error() string {
	return fmt.Sprintf("%v: %s at offset %d (type %s)", e.Err, e.Detail, e.Offset, e.Type)
}

func (e *DataError) Unwrap() error { return e.Err }

// Lookup returns the value of the first entry whose Key is the string
// key. Keys of type ObjectPath or Signature match too.
func Lookup(dict []DictEntry, key string) (any, bool) {
	for i := range dict {
		switch k := dict[i].Key.(type) {
		case string:
			if k == key {
				return dict[i].Value, true
			}
		case ObjectPath:
			if string(k) == key {
				return dict[i].Value, true
			}
		case Signature:
			if string(k) == key {
				return dict[i].Value, true
			}
		}
	}
	return nil, false
}

// NewVariant returns Variant{MustParseType(sig), v}. It panics if sig is
// not a valid type string; use it with constant signatures.
func NewVariant(sig string, v any) Variant {
	return Variant{Type: MustParseType(sig), Value: v}
}

// String formats the variant in GVariant text format with type
// annotations, like g_variant_print(v, TRUE).
func (v Variant) String() string {
	if v.Type == nil {
		return "<invalid variant>"
	}
	return Print(v.Type, v.Value, true)
}
