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

	"github.com/groveos/grove/core/compose/internal/ghash"
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
	if err := modules.Expand(ctx, l); err != nil {
		return nil, err
	}
	release := ""
	for _, name := range modules.DirNames() {
		d := modules.DirOf(name)
		if err := d.Expand(ctx, l); err != nil {
			return nil, err
		}
		_, isFile := d.FileOf("vmlinuz")
		isDir := d.DirOf("vmlinuz") != nil
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
	h := ghash.New()
	for _, e := range meta {
		k, _ := e.Key.(string)
		h.Insert(k, e.Value)
	}
	h.Insert(object.MetaBootable, gvariant.NewVariant("b", true))
	h.Insert(object.MetaLinux, gvariant.NewVariant("s", release))
	return h.Entries(), nil
}
