package object

import (
	"crypto/sha256"
	"fmt"
	"math/bits"
	"time"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
)

// Well-known commit metadata keys.
const (
	MetaVersion           = "version"
	MetaRefBinding        = "ostree.ref-binding"
	MetaCollectionBinding = "ostree.collection-binding"
	MetaBootable          = "ostree.bootable"
	MetaLinux             = "ostree.linux"
	MetaSourceTitle       = "ostree.source-title"
	MetaEndOfLife         = "ostree.endoflife"
)

// Commit is a snapshot: a root tree plus history and metadata.
type Commit struct {
	// Metadata keeps the a{sv} in stored order (it is hashed as written);
	// every Value is a gvariant.Variant.
	Metadata  []gvariant.DictEntry
	Parent    oid.Checksum // zero for a root commit
	Related   []Related
	Subject   string
	Body      string
	Timestamp uint64 // seconds since the epoch, UTC
	RootTree  oid.Checksum
	RootMeta  oid.Checksum
}

// Related is a (name, commit) pair from the rarely used related-objects list.
type Related struct {
	Name     string
	Checksum oid.Checksum
}

var (
	commitType = gvariant.MustParseType("(a{sv}aya(say)sstayay)")
	metaType   = gvariant.MustParseType("a{sv}")
)

// HasParent reports whether c records a parent commit.
func (c *Commit) HasParent() bool { return !c.Parent.IsZero() }

// Time is the commit timestamp as a time.Time in UTC.
func (c *Commit) Time() time.Time { return time.Unix(int64(c.Timestamp), 0).UTC() }

// ContentChecksum identifies the tree regardless of history: SHA-256 of the
// root dirtree and dirmeta checksums, as `ostree show` prints it.
func (c *Commit) ContentChecksum() oid.Checksum {
	h := sha256.New()
	h.Write(c.RootTree[:])
	h.Write(c.RootMeta[:])
	var out oid.Checksum
	h.Sum(out[:0])
	return out
}

// Lookup returns the metadata value stored under key (the first, as ostree
// reads it).
func (c *Commit) Lookup(key string) (gvariant.Variant, bool) {
	return LookupMeta(c.Metadata, key)
}

// String returns a string metadata value, or "".
func (c *Commit) String(key string) string {
	if v, ok := c.Lookup(key); ok {
		if s, ok := v.Value.(string); ok {
			return s
		}
	}
	return ""
}

// Version is the "version" metadata key, or "".
func (c *Commit) Version() string { return c.String(MetaVersion) }

// LookupMeta finds key in an a{sv} dictionary: the first entry, as
// g_variant_lookup_value (and so ostree show/log) finds it.
func LookupMeta(dict []gvariant.DictEntry, key string) (gvariant.Variant, bool) {
	v, ok := gvariant.Lookup(dict, key)
	if !ok {
		return gvariant.Variant{}, false
	}
	vv, ok := v.(gvariant.Variant)
	return vv, ok
}

// Marshal serialises c in normal form; its SHA-256 is the commit checksum.
func (c *Commit) Marshal() []byte {
	var parent []byte
	if c.HasParent() {
		parent = c.Parent[:]
	}
	related := make([]any, len(c.Related))
	for i, r := range c.Related {
		related[i] = gvariant.Tuple{r.Name, r.Checksum[:]}
	}
	meta := c.Metadata
	if meta == nil {
		meta = []gvariant.DictEntry{}
	}
	b, err := gvariant.Marshal(commitType, gvariant.Tuple{
		meta, parent, related, c.Subject, c.Body,
		bits.ReverseBytes64(c.Timestamp), c.RootTree[:], c.RootMeta[:],
	})
	if err != nil {
		panic("object: marshal commit: " + err.Error())
	}
	return b
}

// UnmarshalCommit parses and validates a commit object.
func UnmarshalCommit(b []byte) (*Commit, error) {
	v, err := gvariant.Unmarshal(commitType, b)
	if err != nil {
		return nil, fmt.Errorf("object: commit: %w", err)
	}
	t := v.(gvariant.Tuple)
	c := &Commit{
		Subject:   t[3].(string),
		Body:      t[4].(string),
		Timestamp: bits.ReverseBytes64(t[5].(uint64)),
	}
	c.Metadata, _ = t[0].([]gvariant.DictEntry)
	for _, e := range c.Metadata {
		if k, _ := e.Key.(string); k == "" {
			return nil, fmt.Errorf("%w: commit has an empty metadata key", ErrMalformed)
		}
	}
	if p := t[1].([]byte); len(p) != 0 {
		if c.Parent, err = oid.FromBytes(p); err != nil {
			return nil, fmt.Errorf("%w: commit parent: %w", ErrMalformed, err)
		}
	}
	rel, _ := t[2].([]any)
	for _, r := range rel {
		rt := r.(gvariant.Tuple)
		sum, err := oid.FromBytes(rt[1].([]byte))
		if err != nil {
			return nil, fmt.Errorf("%w: related object: %w", ErrMalformed, err)
		}
		c.Related = append(c.Related, Related{rt[0].(string), sum})
	}
	if c.RootTree, err = oid.FromBytes(t[6].([]byte)); err != nil {
		return nil, fmt.Errorf("%w: commit root tree: %w", ErrMalformed, err)
	}
	if c.RootMeta, err = oid.FromBytes(t[7].([]byte)); err != nil {
		return nil, fmt.Errorf("%w: commit root meta: %w", ErrMalformed, err)
	}
	return c, nil
}

// MarshalMeta serialises an a{sv} dictionary (commitmeta, summary metadata).
func MarshalMeta(dict []gvariant.DictEntry) []byte {
	if dict == nil {
		dict = []gvariant.DictEntry{}
	}
	b, err := gvariant.Marshal(metaType, dict)
	if err != nil {
		panic("object: marshal a{sv}: " + err.Error())
	}
	return b
}

// UnmarshalMeta parses an a{sv} dictionary such as a .commitmeta object.
func UnmarshalMeta(b []byte) ([]gvariant.DictEntry, error) {
	v, err := gvariant.Unmarshal(metaType, b)
	if err != nil {
		return nil, fmt.Errorf("object: a{sv}: %w", err)
	}
	d, _ := v.([]gvariant.DictEntry)
	return d, nil
}
