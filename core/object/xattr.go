package object

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/groveos/grove/core/gvariant"
)

// Xattr is one extended attribute. Name has no trailing NUL here; the
// serialised form adds it.
type Xattr struct {
	Name  string
	Value []byte
}

// SortXattrs puts xs in ostree's order (strcmp of the name).
func SortXattrs(xs []Xattr) {
	sort.Slice(xs, func(i, j int) bool { return xs[i].Name < xs[j].Name })
}

func xattrsToVariant(xs []Xattr) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		name := make([]byte, len(x.Name)+1)
		copy(name, x.Name)
		out[i] = gvariant.Tuple{name, x.Value}
	}
	return out
}

func xattrsFromVariant(v any) ([]Xattr, error) {
	arr, _ := v.([]any)
	if len(arr) == 0 {
		return nil, nil
	}
	out := make([]Xattr, len(arr))
	for i, e := range arr {
		t, ok := e.(gvariant.Tuple)
		if !ok || len(t) != 2 {
			return nil, fmt.Errorf("%w: xattr entry %d", ErrMalformed, i)
		}
		name, _ := t[0].([]byte)
		val, _ := t[1].([]byte)
		if len(name) < 2 || name[len(name)-1] != 0 || bytes.IndexByte(name[:len(name)-1], 0) >= 0 {
			return nil, fmt.Errorf("%w: xattr name %q is not a NUL-terminated string", ErrMalformed, name)
		}
		out[i] = Xattr{Name: string(name[:len(name)-1]), Value: val}
	}
	return out, nil
}

var xattrsType = gvariant.MustParseType("a(ayay)")

// MarshalXattrs serialises xattrs alone (the bare-split-xattrs and
// ostree ls -X form).
func MarshalXattrs(xs []Xattr) []byte { return appendXattrs(nil, xs) }

// UnmarshalXattrs parses an a(ayay) variant.
func UnmarshalXattrs(b []byte) ([]Xattr, error) {
	if xs, ok := decodeXattrs(b); ok && bytes.Equal(appendXattrs(make([]byte, 0, len(b)), xs), b) {
		return xs, nil
	}
	v, err := gvariant.Unmarshal(xattrsType, b)
	if err != nil {
		return nil, fmt.Errorf("object: xattrs: %w", err)
	}
	return xattrsFromVariant(v)
}

// XattrsEqual reports whether two sorted xattr lists are the same.
func XattrsEqual(a, b []Xattr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || string(a[i].Value) != string(b[i].Value) {
			return false
		}
	}
	return true
}
