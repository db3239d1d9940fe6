package summary

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/internal/fsutil"
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
	KeyCollectionMap  = "ostree.summary.collection-map"
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
	// Sign, when set, makes the summary.sig for the summary bytes (an
	// a{sv} with ostree.gpgsigs and/or ostree.sign.<engine>): core/sign
	// does it for summary --gpg-sign/--sign.
	Sign func(ctx context.Context, summary []byte) ([]byte, error)
}

// Generate builds the summary bytes for r's current refs and deltas.
// Metadata keys are written sorted by name (ostree's order is GHashTable
// order, which clients do not depend on).
func Generate(ctx context.Context, r *repo.Repo, opts Options) ([]byte, error) {
	refs, err := r.ListRefs(ctx)
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	kf := r.Config()
	mainID, _ := kf.Get("core", "collection-id")
	// refs/heads go in the main list; mirrored refs of other collections
	// (refs/mirrors/COLLECTION/REF) in the collection map. Remote refs
	// stay out, as in ostree.
	var entries []any
	byCollection := map[string][]any{}
	for _, ref := range refs { // sorted by name within heads and mirrors
		switch {
		case ref.Remote == "" && !ref.Mirror:
			e, err := refEntry(ctx, r, ref.Name, ref.Checksum)
			if err != nil {
				return nil, err
			}
			entries = append(entries, e)
		case ref.Mirror && ref.Remote != mainID:
			e, err := refEntry(ctx, r, ref.Name, ref.Checksum)
			if err != nil {
				return nil, err
			}
			byCollection[ref.Remote] = append(byCollection[ref.Remote], e)
		}
	}

	md := map[string]gvariant.Variant{}
	for _, e := range opts.Extra {
		k, _ := e.Key.(string)
		if v, ok := e.Value.(gvariant.Variant); ok {
			md[k] = v
		}
	}
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
	if mainID != "" {
		md[KeyCollectionID] = gvariant.NewVariant("s", mainID)
	}
	if len(byCollection) > 0 {
		ids := make([]string, 0, len(byCollection))
		for id := range byCollection {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		cmap := make([]gvariant.DictEntry, len(ids))
		for i, id := range ids {
			cmap[i] = gvariant.DictEntry{Key: id, Value: byCollection[id]}
		}
		md[KeyCollectionMap] = gvariant.NewVariant("a{sa(s(taya{sv}))}", cmap)
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

// refEntry is one (s(taya{sv})) ref entry: the commit's size (host
// order, little-endian, unlike most ostree integers), its checksum, and
// its timestamp and version.
func refEntry(ctx context.Context, r *repo.Repo, name string, sum oid.Checksum) (any, error) {
	data, err := r.ReadMeta(ctx, oid.Commit, sum)
	if err != nil {
		return nil, fmt.Errorf("summary: ref %s: %w", name, err)
	}
	c, err := object.UnmarshalCommit(data)
	if err != nil {
		return nil, fmt.Errorf("summary: ref %s: commit %s: %w", name, sum, err)
	}
	// The order ostree's hash table gives these two keys.
	var meta []gvariant.DictEntry
	if v, ok := c.Lookup(object.MetaVersion); ok {
		if s, ok := v.Value.(string); ok {
			meta = append(meta, gvariant.DictEntry{Key: KeyCommitVersion, Value: gvariant.NewVariant("s", s)})
		}
	}
	meta = append(meta, gvariant.DictEntry{Key: KeyCommitTime, Value: gvariant.NewVariant("t", bits.ReverseBytes64(c.Timestamp))})
	return gvariant.Tuple{name, gvariant.Tuple{uint64(len(data)), sum[:], meta}}, nil
}

// Update regenerates the delta indexes (delta.Reindex), then writes a fresh summary into r, and its summary.sig when
// opts.Sign is set, as ostree does: both are made in a temporary directory
// (the summary taking the signature's mtime, so that HTTP caches expire
// them together), renamed into place, and the repository directory is
// synced. Without signing, a summary.sig left from before is removed.
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
	var sig []byte
	if opts.Sign != nil {
		if sig, err = opts.Sign(ctx, data); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp(r.TmpDir(), "summary-")
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := fsutil.WriteFileAtomic(filepath.Join(tmp, summaryFile), data, 0o644, r.Fsync()); err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if sig != nil {
		if err := fsutil.WriteFileAtomic(filepath.Join(tmp, summarySignatures), sig, 0o644, r.Fsync()); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		st, err := os.Stat(filepath.Join(tmp, summarySignatures))
		if err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		if err := os.Chtimes(filepath.Join(tmp, summaryFile), st.ModTime(), st.ModTime()); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
	}
	if err := os.Rename(filepath.Join(tmp, summaryFile), filepath.Join(r.Path(), summaryFile)); err != nil {
		return fmt.Errorf("summary: Unable to rename summary file: %w", err)
	}
	sigPath := filepath.Join(r.Path(), summarySignatures)
	if sig != nil {
		if err := os.Rename(filepath.Join(tmp, summarySignatures), sigPath); err != nil {
			os.Remove(sigPath) // it no longer goes with the summary
			return fmt.Errorf("summary: Unable to rename summary signature file: %w", err)
		}
	} else if err := os.Remove(sigPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("summary: Unable to delete summary signature file: %w", err)
	}
	if r.Fsync() {
		if err := fsutil.SyncDir(r.Path()); err != nil {
			return fmt.Errorf("summary: %w", err)
		}
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
