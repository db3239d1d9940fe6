package summary

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Type is the summary's GVariant type.
var Type = gvariant.MustParseType("(a(s(taya{sv}))a{sv})")

// Well-known summary metadata keys.
const (
	KeyStaticDeltas   = "ostree.static-deltas"
	KeyLastModified   = "ostree.summary.last-modified"
	KeyExpires        = "ostree.summary.expires"
	KeyMode           = "ostree.summary.mode"
	KeyTombstones     = "ostree.summary.tombstone-commits"
	KeyIndexedDeltas  = "ostree.summary.indexed-deltas"
	KeyCollectionID   = "ostree.summary.collection-id"
	KeyCommitTime     = "ostree.commit.timestamp"
	KeyCommitVersion  = "ostree.commit.version"
	summaryFile       = "summary"
	summarySignatures = "summary.sig"
)

// ErrNoSummary is returned by Read when the repository has no summary.
var ErrNoSummary = errors.New("summary: no summary file")

// Options tune Generate.
type Options struct {
	// Extra is merged into the metadata (ostree summary --add-metadata);
	// the standard keys override it, as in ostree.
	Extra []gvariant.DictEntry
	// Now is the last-modified time; zero means time.Now().
	Now time.Time
}

// Generate builds the summary bytes for r's current refs and deltas.
// Metadata keys are written sorted by name (ostree's order is GHashTable
// order, which clients do not depend on).
func Generate(ctx context.Context, r *repo.Repo, opts Options) ([]byte, error) {
	refs, err := r.RefsWithPrefix(ctx, "", false, false)
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	names := make([]string, 0, len(refs))
	for n := range refs {
		if !strings.Contains(n, ":") { // remote refs stay out of the summary
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var entries []any
	for _, n := range names {
		sum, err := oid.Parse(refs[n])
		if err != nil {
			return nil, fmt.Errorf("summary: ref %s: %w", n, err)
		}
		data, err := r.ReadMeta(ctx, oid.Commit, sum)
		if err != nil {
			return nil, fmt.Errorf("summary: ref %s: %w", n, err)
		}
		c, err := object.UnmarshalCommit(data)
		if err != nil {
			return nil, fmt.Errorf("summary: ref %s: commit %s: %w", n, sum, err)
		}
		meta := []gvariant.DictEntry{{Key: KeyCommitTime, Value: gvariant.NewVariant("t", bits.ReverseBytes64(c.Timestamp))}}
		if v, ok := c.Lookup(object.MetaVersion); ok {
			if s, ok := v.Value.(string); ok {
				meta = append(meta, gvariant.DictEntry{Key: KeyCommitVersion, Value: gvariant.NewVariant("s", s)})
			}
		}
		// The size is host order (little-endian), unlike most ostree integers.
		entries = append(entries, gvariant.Tuple{n, gvariant.Tuple{uint64(len(data)), sum[:], meta}})
	}

	md := map[string]gvariant.Variant{}
	for _, e := range opts.Extra {
		k, _ := e.Key.(string)
		if v, ok := e.Value.(gvariant.Variant); ok {
			md[k] = v
		}
	}
	kf := r.Config()
	noDeltas, err := kf.Bool("core", "no-deltas-in-summary", false)
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	if !noDeltas {
		deltas, err := delta.SummaryEntries(ctx, r)
		if err != nil {
			return nil, err
		}
		if len(deltas) > 0 {
			md[KeyStaticDeltas] = gvariant.NewVariant("a{sv}", deltas)
		}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	md[KeyLastModified] = gvariant.NewVariant("t", bits.ReverseBytes64(uint64(now.Unix())))
	md[KeyMode] = gvariant.NewVariant("s", kf.String("core", "mode", "bare"))
	tomb, err := kf.Bool("core", "tombstone-commits", false)
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	md[KeyTombstones] = gvariant.NewVariant("b", tomb)
	md[KeyIndexedDeltas] = gvariant.NewVariant("b", true)
	if id, ok := kf.Get("core", "collection-id"); ok && id != "" {
		md[KeyCollectionID] = gvariant.NewVariant("s", id)
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	dict := make([]gvariant.DictEntry, len(keys))
	for i, k := range keys {
		dict[i] = gvariant.DictEntry{Key: k, Value: md[k]}
	}
	out, err := gvariant.Marshal(Type, gvariant.Tuple{entries, dict})
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	return out, nil
}

// Update regenerates the delta indexes (delta.Reindex), then writes a fresh summary into r atomically and removes a summary.sig
// that no longer matches it.
func Update(ctx context.Context, r *repo.Repo, opts Options) error {
	// ostree regenerates the delta indexes with the summary.
	if err := delta.Reindex(ctx, r, nil); err != nil {
		return err
	}
	unlock, err := r.LockShared(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	data, err := Generate(ctx, r, opts)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(r.Path(), ".summary-*")
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("summary: %w", err)
	}
	if r.Fsync() {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return fmt.Errorf("summary: %w", err)
		}
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("summary: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(r.Path(), summaryFile)); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if err := os.Remove(filepath.Join(r.Path(), summarySignatures)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("summary: %w", err)
	}
	return nil
}

// Read returns the repository's summary bytes.
func Read(ctx context.Context, r *repo.Repo) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(r.Path(), summaryFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoSummary, r.Path())
	}
	return b, err
}
