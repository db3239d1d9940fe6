// Package ghash mirrors GLib's GHashTable (open addressing, in-place
// resize) just far enough to reproduce its iteration order, which ostree's
// output follows in places: g_variant_dict_end's key order (--bootable
// metadata) and libarchive import's hardlink processing order.
package ghash

import "github.com/groveos/grove/core/gvariant"

// Table mirrors GLib's GHashTable (open addressing, in-place resize) just
// far enough to reproduce g_variant_dict_end's iteration order.
type Table struct {
	shift  uint
	hashes []uint32
	keys   []string
	vals   []any
	nnodes int
	noccup int
}

var primeMod = []uint32{1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749,
	65521, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393,
	67108859, 134217689, 268435399, 536870909, 1073741789, 2147483647}

func New() *Table {
	h := &Table{shift: 3}
	h.hashes = make([]uint32, 8)
	h.keys = make([]string, 8)
	h.vals = make([]any, 8)
	return h
}

func (h *Table) mask() uint32 { return uint32(len(h.hashes)) - 1 }

func (h *Table) index(hash uint32) uint32 { return (hash * 11) % primeMod[h.shift] }

// gStrHash is g_str_hash (djb2 over signed chars).
func gStrHash(s string) uint32 {
	var v uint32 = 5381
	for i := 0; i < len(s); i++ {
		v = v<<5 + v + uint32(int32(int8(s[i])))
	}
	return v
}

func (h *Table) Insert(key string, val any) {
	hash := gStrHash(key)
	if hash < 2 {
		hash = 2
	}
	i := h.index(hash)
	var step uint32
	for h.hashes[i] != 0 {
		if h.hashes[i] == hash && h.keys[i] == key {
			h.vals[i] = val // g_hash_table_insert keeps the old key
			return
		}
		step++
		i = (i + step) & h.mask()
	}
	h.hashes[i], h.keys[i], h.vals[i] = hash, key, val
	h.nnodes++
	h.noccup++
	size := len(h.hashes)
	if (size > h.nnodes*4 && size > 8) || size <= h.noccup+h.noccup/16 {
		h.resize()
	}
}

func (h *Table) resize() {
	n := int(float64(h.nnodes) * 1.333)
	var shift uint
	for ; n != 0; shift++ {
		n >>= 1
	}
	if shift < 3 {
		shift = 3
	}
	oldSize := len(h.hashes)
	newSize := 1 << shift
	h.shift = shift
	h.noccup = h.nnodes
	if newSize <= oldSize {
		// Shrinking never happens while only inserting.
		return
	}
	h.hashes = append(h.hashes, make([]uint32, newSize-oldSize)...)
	h.keys = append(h.keys, make([]string, newSize-oldSize)...)
	h.vals = append(h.vals, make([]any, newSize-oldSize)...)
	moved := make([]bool, newSize)
	for i := 0; i < oldSize; i++ {
		nh := h.hashes[i]
		if nh < 2 {
			h.hashes[i] = 0
			continue
		}
		if moved[i] {
			continue
		}
		h.hashes[i] = 0
		key, val := h.keys[i], h.vals[i]
		h.keys[i], h.vals[i] = "", nil
		for {
			j := h.index(nh)
			var step uint32
			for moved[j] {
				step++
				j = (j + step) & h.mask()
			}
			moved[j] = true
			replaced := h.hashes[j]
			h.hashes[j] = nh
			if replaced < 2 {
				h.keys[j], h.vals[j] = key, val
				break
			}
			nh = replaced
			key, h.keys[j] = h.keys[j], key
			val, h.vals[j] = h.vals[j], val
		}
	}
}

func (h *Table) Entries() []gvariant.DictEntry {
	var out []gvariant.DictEntry
	for i, hash := range h.hashes {
		if hash >= 2 {
			out = append(out, gvariant.DictEntry{Key: h.keys[i], Value: h.vals[i]})
		}
	}
	return out
}
