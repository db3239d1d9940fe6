package compose

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
)

// Helpers that turn `ostree commit` command-line options into commit
// metadata and modifiers, reproducing ostree 2022.7's byte-level choices
// (key order, duplicates, GVariantDict ordering for --bootable).

// ErrOption reports a malformed commit option value.
var ErrOption = errors.New("compose: invalid option")

// ParseKeyValues parses KEY=VALUE options into a{sv} entries in the order
// given, keeping duplicates as ostree does. With text the value is GVariant
// text (--add-metadata); otherwise it is a plain string.
func ParseKeyValues(kvs []string, text bool) ([]gvariant.DictEntry, error) {
	var out []gvariant.DictEntry
	for _, s := range kvs {
		key, value, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("%w: missing '=' in KEY=VALUE metadata '%s'", ErrOption, s)
		}
		var v gvariant.Variant
		if text {
			var err error
			if v, err = gvariant.ParseText(value, nil); err != nil {
				return nil, fmt.Errorf("%w: parsing %s: %v", ErrOption, s, err)
			}
		} else {
			v = gvariant.NewVariant("s", value)
		}
		out = append(out, gvariant.DictEntry{Key: key, Value: v})
	}
	return out, nil
}

// lookupDictLast returns the value of key in an a{sv} the way a
// GVariantDict built from it does: the last of duplicated keys wins. This
// is what `ostree commit --keep-metadata` and the binding checks see;
// plain lookups (show, log, version) take the first, as
// g_variant_lookup_value does: object.LookupMeta. Verified against ostree
// 2022.7 with a commit carrying version=1 then version=2.
func lookupDictLast(meta []gvariant.DictEntry, key string) (gvariant.Variant, bool) {
	for i := len(meta) - 1; i >= 0; i-- {
		if k, _ := meta[i].Key.(string); k == key {
			v, ok := meta[i].Value.(gvariant.Variant)
			return v, ok
		}
	}
	return gvariant.Variant{}, false
}

// AddBindings appends ostree.ref-binding (the sorted refs; empty for an
// orphan commit) and, unless meta already names one, the collection
// binding, as `ostree commit` does without --no-bindings.
func AddBindings(meta []gvariant.DictEntry, refs []string, collectionID string) []gvariant.DictEntry {
	sorted := append([]string{}, refs...)
	sort.Strings(sorted)
	out := append(append([]gvariant.DictEntry{}, meta...),
		gvariant.DictEntry{Key: object.MetaRefBinding, Value: gvariant.NewVariant("as", sorted)})
	if _, ok := lookupDictLast(meta, object.MetaCollectionBinding); !ok && collectionID != "" {
		out = append(out, gvariant.DictEntry{Key: object.MetaCollectionBinding, Value: gvariant.NewVariant("s", collectionID)})
	}
	return out
}

// ParseStatOverride parses a --statoverride file: "+MODE PATH" (or
// "MODE PATH") adds bits, "=MODE PATH" replaces the permission bits.
// MODE is decimal, as ostree reads it with g_ascii_strtod.
func ParseStatOverride(data string) (add, set map[string]uint32, err error) {
	add, set = map[string]uint32{}, map[string]uint32{}
	for _, line := range strings.Split(data, "\n") {
		if line == "" {
			continue
		}
		modeStr, path, ok := strings.Cut(line, " ")
		if !ok {
			return nil, nil, fmt.Errorf("%w: malformed statoverride file (no space found)", ErrOption)
		}
		override := strings.HasPrefix(modeStr, "=")
		if override {
			modeStr = modeStr[1:]
		}
		m := uint32(int32(strtod(modeStr)))
		if override {
			set[path] = m
		} else {
			add[path] = m
		}
	}
	return add, set, nil
}

var strtodPrefix = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[ \t\n\v\f\r]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?`)
})

// strtod is g_ascii_strtod on a decimal prefix; junk yields 0.
func strtod(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(strtodPrefix().FindString(s)), 64)
	if err != nil || math.IsNaN(f) {
		return 0
	}
	return math.Max(math.Min(f, math.MaxInt32), math.MinInt32)
}

// ParseSkipList parses a --skip-list file: one absolute path per line.
func ParseSkipList(data string) map[string]bool {
	skip := map[string]bool{}
	for _, line := range strings.Split(data, "\n") {
		if line != "" {
			skip[line] = true
		}
	}
	return skip
}

// ErrBootable is returned when --bootable finds no single kernel.
var ErrBootable = errors.New("compose: bootable")

// BootableMetadata adds ostree.bootable and ostree.linux for the kernel
// found at usr/lib/modules/VERSION/vmlinuz of root, as ostree 2022.7's
// ostree_commit_metadata_for_bootable does. That function goes through a
// GVariantDict, so the result has GLib hash-table order with duplicate keys
// collapsed (last value wins); it is reproduced here.
func BootableMetadata(ctx context.Context, l Loader, root *Tree, meta []gvariant.DictEntry) ([]gvariant.DictEntry, error) {
	modules, err := root.Walk(ctx, l, "usr/lib/modules")
	if err != nil || modules == nil {
		return nil, fmt.Errorf("%w: opening usr/lib/modules: no such directory", ErrBootable)
	}
	if err := modules.expand(ctx, l); err != nil {
		return nil, err
	}
	release := ""
	for name, d := range modules.dirs {
		if err := d.expand(ctx, l); err != nil {
			return nil, err
		}
		_, isFile := d.files["vmlinuz"]
		_, isDir := d.dirs["vmlinuz"]
		if !isFile && !isDir {
			continue
		}
		if release != "" {
			return nil, fmt.Errorf("%w: multiple kernels found in /usr/lib/modules", ErrBootable)
		}
		release = name
	}
	if release == "" {
		return nil, fmt.Errorf("%w: no kernel found in /usr/lib/modules", ErrBootable)
	}
	h := newGHash()
	for _, e := range meta {
		k, _ := e.Key.(string)
		h.insert(k, e.Value)
	}
	h.insert(object.MetaBootable, gvariant.NewVariant("b", true))
	h.insert(object.MetaLinux, gvariant.NewVariant("s", release))
	return h.entries(), nil
}

// ghash mirrors GLib's GHashTable (open addressing, in-place resize) just
// far enough to reproduce g_variant_dict_end's iteration order.
type ghash struct {
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

func newGHash() *ghash {
	h := &ghash{shift: 3}
	h.hashes = make([]uint32, 8)
	h.keys = make([]string, 8)
	h.vals = make([]any, 8)
	return h
}

func (h *ghash) mask() uint32 { return uint32(len(h.hashes)) - 1 }

func (h *ghash) index(hash uint32) uint32 { return (hash * 11) % primeMod[h.shift] }

// gStrHash is g_str_hash (djb2 over signed chars).
func gStrHash(s string) uint32 {
	var v uint32 = 5381
	for i := 0; i < len(s); i++ {
		v = v<<5 + v + uint32(int32(int8(s[i])))
	}
	return v
}

func (h *ghash) insert(key string, val any) {
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

func (h *ghash) resize() {
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

func (h *ghash) entries() []gvariant.DictEntry {
	var out []gvariant.DictEntry
	for i, hash := range h.hashes {
		if hash >= 2 {
			out = append(out, gvariant.DictEntry{Key: h.keys[i], Value: h.vals[i]})
		}
	}
	return out
}
