package inspect

import (
	"math"
	"math/bits"

	"github.com/groveos/grove/core/gvariant"
)

// Byteswap returns v with every integer and double byte-swapped, like
// g_variant_byteswap. ostree's dump code (log --raw, show --raw,
// show --print-metadata-key) prints values through it on little-endian
// hosts, which shows its big-endian fields in natural order and everything
// else swapped.
func Byteswap(t *gvariant.Type, v any) (any, error) {
	// Normalise the Go representation first (callers may hand []string etc.).
	data, err := gvariant.Marshal(t, v)
	if err != nil {
		return nil, err
	}
	norm, err := gvariant.Unmarshal(t, data)
	if err != nil {
		return nil, err
	}
	return swap(t, norm), nil
}

func swap(t *gvariant.Type, v any) any {
	switch x := v.(type) {
	case int16:
		return int16(bits.ReverseBytes16(uint16(x)))
	case uint16:
		return bits.ReverseBytes16(x)
	case int32:
		return int32(bits.ReverseBytes32(uint32(x)))
	case uint32:
		return bits.ReverseBytes32(x)
	case int64:
		return int64(bits.ReverseBytes64(uint64(x)))
	case uint64:
		return bits.ReverseBytes64(x)
	case float64:
		return math.Float64frombits(bits.ReverseBytes64(math.Float64bits(x)))
	case gvariant.Variant:
		return gvariant.Variant{Type: x.Type, Value: swap(x.Type, x.Value)}
	case gvariant.Maybe:
		if x.Valid {
			x.Value = swap(t.Elem(), x.Value)
		}
		return x
	case gvariant.Tuple:
		out := make(gvariant.Tuple, len(x))
		f := t.Fields()
		for i := range x {
			out[i] = swap(f[i], x[i])
		}
		return out
	case gvariant.DictEntry:
		f := t.Fields()
		return gvariant.DictEntry{Key: swap(f[0], x.Key), Value: swap(f[1], x.Value)}
	case []gvariant.DictEntry:
		out := make([]gvariant.DictEntry, len(x))
		for i := range x {
			out[i] = swap(t.Elem(), x[i]).(gvariant.DictEntry)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = swap(t.Elem(), x[i])
		}
		return out
	}
	return v
}
