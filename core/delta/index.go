package delta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// List returns the deltas stored in r (every deltas/XX/REST directory
// holding a superblock), sorted by name.
func List(ctx context.Context, r *repo.Repo) ([]Name, error) {
	base := filepath.Join(r.Path(), "deltas")
	tops, err := os.ReadDir(base)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("delta: %w", err)
	}
	var out []Name
	for _, t := range tops {
		if !t.IsDir() {
			continue
		}
		subs, err := os.ReadDir(filepath.Join(base, t.Name()))
		if err != nil {
			return nil, fmt.Errorf("delta: %w", err)
		}
		for _, s := range subs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if !s.IsDir() {
				continue
			}
			if _, err := os.Stat(filepath.Join(base, t.Name(), s.Name(), "superblock")); err != nil {
				continue
			}
			n, err := nameFromDir(t.Name(), s.Name())
			if err != nil {
				continue // not a delta directory
			}
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// Exists reports whether r holds the delta's superblock.
func Exists(r *repo.Repo, n Name) bool {
	_, err := os.Stat(filepath.Join(r.Path(), n.SuperblockPath()))
	return err == nil
}

// Digest is the SHA-256 of the delta's superblock file, as listed in the
// summary and the delta indexes.
func Digest(r *repo.Repo, n Name) (oid.Checksum, error) {
	b, err := os.ReadFile(filepath.Join(r.Path(), n.SuperblockPath()))
	if err != nil {
		return oid.Checksum{}, fmt.Errorf("delta: %w", err)
	}
	return oid.Sum(b), nil
}

// Delete removes a delta's directory; ostree's message if it is absent.
func Delete(ctx context.Context, r *repo.Repo, n Name) error {
	dir := filepath.Join(r.Path(), n.Dir())
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: Can't find delta %s", ErrNotFound, n)
	}
	unlock, err := r.LockExclusive(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("delta: delete %s: %w", n, err)
	}
	return nil
}

// SummaryEntries is the ostree.static-deltas dictionary of the summary:
// every delta's name → its superblock digest (ay), sorted by name.
func SummaryEntries(ctx context.Context, r *repo.Repo) ([]gvariant.DictEntry, error) {
	names, err := List(ctx, r)
	if err != nil {
		return nil, err
	}
	out := make([]gvariant.DictEntry, 0, len(names))
	for _, n := range names {
		d, err := Digest(r, n)
		if err != nil {
			return nil, err
		}
		out = append(out, gvariant.DictEntry{Key: n.String(), Value: gvariant.NewVariant("ay", d[:])})
	}
	return out, nil
}

// ListIndexes returns the commits that have a delta index file.
func ListIndexes(ctx context.Context, r *repo.Repo) ([]oid.Checksum, error) {
	base := filepath.Join(r.Path(), "delta-indexes")
	tops, err := os.ReadDir(base)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("delta: %w", err)
	}
	var out []oid.Checksum
	for _, t := range tops {
		if !t.IsDir() || len(t.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(base, t.Name()))
		if err != nil {
			return nil, fmt.Errorf("delta: %w", err)
		}
		for _, f := range files {
			rest, ok := strings.CutSuffix(f.Name(), ".index")
			if !ok || len(rest) != 41 || !f.Type().IsRegular() {
				continue
			}
			if c, err := oid.ParseModifiedBase64(t.Name() + rest); err == nil {
				out = append(out, c)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out, ctx.Err()
}

// MarshalIndex builds a delta index file: {"ostree.static-deltas": {name: digest}}.
func MarshalIndex(entries []gvariant.DictEntry) []byte {
	if entries == nil {
		entries = []gvariant.DictEntry{}
	}
	return object.MarshalMeta([]gvariant.DictEntry{{Key: KeyStaticDeltas, Value: gvariant.NewVariant("a{sv}", entries)}})
}

// IndexEntry is a delta listed by a summary or a delta index.
type IndexEntry struct {
	Name   Name
	Digest oid.Checksum
}

// ParseDeltaDict reads an ostree.static-deltas dictionary (from a summary's
// metadata or an index file); entries with bad names or digests are skipped,
// as ostree skips them.
func ParseDeltaDict(v any) []IndexEntry {
	vv, ok := v.(gvariant.Variant)
	if ok {
		v = vv.Value
	}
	d, _ := v.([]gvariant.DictEntry)
	var out []IndexEntry
	for _, e := range d {
		k, _ := e.Key.(string)
		n, err := ParseName(k)
		if err != nil {
			continue
		}
		val, _ := e.Value.(gvariant.Variant)
		b, _ := val.Value.([]byte)
		c, err := oid.FromBytes(b)
		if err != nil {
			continue
		}
		out = append(out, IndexEntry{Name: n, Digest: c})
	}
	return out
}

// ParseIndex reads a delta index file.
func ParseIndex(b []byte) ([]IndexEntry, error) {
	d, err := object.UnmarshalMeta(b)
	if err != nil {
		return nil, corrupt("delta index: %v", err)
	}
	v, ok := gvariant.Lookup(d, KeyStaticDeltas)
	if !ok {
		return nil, nil
	}
	return ParseDeltaDict(v), nil
}

// Reindex rewrites delta-indexes/ from deltas/, as ostree's
// static-delta reindex: for to (or, when nil, every commit that has a delta
// or an index) the index lists the deltas ending there, sorted by FROM;
// indexes of commits without deltas are removed. It also sets
// core.indexed-deltas=true in the repository config, so clients pulling
// without a summary know to look. Unchanged index files are not rewritten.
func Reindex(ctx context.Context, r *repo.Repo, to *oid.Checksum) error {
	unlock, err := r.LockShared(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	kf := r.Config()
	if on, _ := kf.Bool("core", "indexed-deltas", false); !on {
		kf.Set("core", "indexed-deltas", "true")
		if err := r.SaveConfig(ctx, kf); err != nil {
			return err
		}
	}
	byTo := map[oid.Checksum][]Name{}
	if to != nil {
		byTo[*to] = nil
	} else {
		old, err := ListIndexes(ctx, r)
		if err != nil {
			return err
		}
		for _, c := range old {
			byTo[c] = nil
		}
	}
	names, err := List(ctx, r)
	if err != nil {
		return err
	}
	for _, n := range names {
		if to != nil && n.To != *to {
			continue
		}
		byTo[n.To] = append(byTo[n.To], n)
	}
	for c, ns := range byTo {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(r.Path(), IndexPath(c))
		if len(ns) == 0 {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("delta: %w", err)
			}
			continue
		}
		// ostree sorts on FROM (scratch first) for a reproducible file.
		sort.Slice(ns, func(i, j int) bool { return fromKey(ns[i]) < fromKey(ns[j]) })
		entries := make([]gvariant.DictEntry, 0, len(ns))
		for _, n := range ns {
			d, err := Digest(r, n)
			if err != nil {
				return err
			}
			entries = append(entries, gvariant.DictEntry{Key: n.String(), Value: gvariant.NewVariant("ay", d[:])})
		}
		data := MarshalIndex(entries)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("delta: %w", err)
		}
		if err := fsutil.WriteFileAtomic(path, data, 0o644, r.Fsync()); err != nil {
			return fmt.Errorf("delta: write %s: %w", IndexPath(c), err)
		}
	}
	return nil
}

func fromKey(n Name) string {
	if n.Scratch() {
		return ""
	}
	return n.From.String()
}
