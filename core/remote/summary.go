package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/groveos/grove/core/fetch"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/summary"
	"golang.org/x/sys/unix"
)

// MaxMetadataSize is ostree's cap on a metadata object or summary
// (OSTREE_MAX_METADATA_SIZE).
const MaxMetadataSize = 128 << 20

// Summary is a remote's summary, parsed.
type Summary struct {
	Raw  []byte // the exact bytes (what signatures cover)
	Sig  []byte // summary.sig, nil when the remote has none
	Refs map[string]SummaryRef
	// Meta is the additional metadata (ostree.summary.mode, …).
	Meta []gvariant.DictEntry
	// FromCache says Raw came from tmp/cache/summaries.
	FromCache bool
}

// SummaryRef is one ref of a summary.
type SummaryRef struct {
	Commit oid.Checksum
	Size   uint64 // the commit object's size (host order in the file)
	Meta   []gvariant.DictEntry
}

// ParseSummary decodes summary bytes: normal form of the exact type, valid
// ref names and checksums.
func ParseSummary(raw []byte) (*Summary, error) {
	v, err := gvariant.Unmarshal(summary.Type, raw)
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	top := v.(gvariant.Tuple)
	s := &Summary{Raw: raw, Refs: map[string]SummaryRef{}}
	s.Meta, _ = top[1].([]gvariant.DictEntry)
	refs, _ := top[0].([]any)
	for _, e := range refs {
		t := e.(gvariant.Tuple)
		name := t[0].(string)
		if err := oid.ValidateRef(name); err != nil {
			return nil, fmt.Errorf("summary: %w", err)
		}
		inner := t[1].(gvariant.Tuple)
		sum, err := oid.FromBytes(inner[1].([]byte))
		if err != nil {
			return nil, fmt.Errorf("summary: ref %s: %w", name, err)
		}
		meta, _ := inner[2].([]gvariant.DictEntry)
		s.Refs[name] = SummaryRef{Commit: sum, Size: inner[0].(uint64), Meta: meta}
	}
	return s, nil
}

// Lookup returns an additional-metadata value.
func (s *Summary) Lookup(key string) (any, bool) {
	v, ok := gvariant.Lookup(s.Meta, key)
	if !ok {
		return nil, false
	}
	if vv, ok := v.(gvariant.Variant); ok {
		return vv.Value, true
	}
	return nil, false
}

// cacheDir is where summaries are cached, as ostree caches them.
func cacheDir(r *repo.Repo) string { return filepath.Join(r.TmpDir(), "cache", "summaries") }

// cached is one cached file with ostree's cache properties: the ETag in
// the user.etag xattr, Last-Modified as the file's mtime.
type cached struct {
	data []byte
	etag string
	mod  time.Time
}

func loadCached(path string) *cached {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	c := &cached{data: data}
	if v, err := fsutil.GetXattr(path, "user.etag"); err == nil && len(v) > 0 {
		c.etag = string(v)
	}
	if st, err := os.Stat(path); err == nil && st.ModTime().Unix() > 0 {
		c.mod = st.ModTime()
	}
	return c
}

func (c *cached) request() fetch.Request {
	if c == nil {
		return fetch.Request{Max: MaxMetadataSize}
	}
	return fetch.Request{Max: MaxMetadataSize, IfNoneMatch: c.etag, IfModifiedSince: c.mod}
}

func saveCached(r *repo.Repo, name string, resp *fetch.Response) error {
	dir := cacheDir(r)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p := filepath.Join(dir, name)
	if err := fsutil.WriteFileAtomic(p, resp.Data, 0o644, r.Fsync()); err != nil {
		return err
	}
	// Cache properties are best effort, as in ostree.
	if resp.ETag != "" {
		_ = unix.Setxattr(p, "user.etag", []byte(resp.ETag), 0)
	} else {
		_ = unix.Removexattr(p, "user.etag")
	}
	// Last-Modified has one-second resolution: a file changed again in
	// the second it was fetched would look unmodified next time. Such a
	// fresh date is not kept (an mtime of 0 sends no If-Modified-Since,
	// for ostree too).
	mod := resp.LastModified
	date := resp.Date
	if date.IsZero() {
		date = time.Now()
	}
	if !mod.IsZero() && date.Sub(mod) < 2*time.Second {
		mod = time.Unix(0, 0)
	}
	if !mod.IsZero() {
		_ = os.Chtimes(p, time.Time{}, mod)
	}
	return nil
}

// FetchSummary gets a remote's summary and summary.sig the way ostree
// does: summary.sig first (conditionally, against the cached copy's ETag
// and Last-Modified); an unchanged signature means the cached summary is
// current; otherwise the summary itself, conditionally too. verify, when
// set, checks the pair (a cached summary that fails is fetched afresh once
// before giving up). Fetched files go to tmp/cache/summaries/NAME{,.sig}.
// A remote without a summary gives (nil, nil).
func FetchSummary(ctx context.Context, r *repo.Repo, c *fetch.Client, base fetch.Mirrors, name string,
	verify func(ctx context.Context, summary, sig []byte) error) (*Summary, error) {
	dir := cacheDir(r)
	cachedSig := loadCached(filepath.Join(dir, name+".sig"))
	cachedSum := loadCached(filepath.Join(dir, name))

	var sig, raw []byte
	var sigResp, sumResp *fetch.Response
	fromCache := false
	resp, err := c.Get(ctx, base, "summary.sig", cachedSig.request())
	switch {
	case errors.Is(err, fetch.ErrNotFound):
	case err != nil:
		return nil, err
	case resp.NotModified && cachedSig != nil:
		sig = cachedSig.data
		if cachedSum != nil {
			raw, fromCache = cachedSum.data, true
		}
	default:
		sig, sigResp = resp.Data, resp
		if cachedSig != nil && cachedSum != nil && bytes.Equal(cachedSig.data, sig) {
			raw, fromCache = cachedSum.data, true
		}
	}
	if raw == nil {
		req := cachedSum.request()
		if sig != nil && cachedSig == nil {
			req = fetch.Request{Max: MaxMetadataSize} // a cached summary without its signature is stale
		}
		resp, err := c.Get(ctx, base, "summary", req)
		switch {
		case errors.Is(err, fetch.ErrNotFound):
		case err != nil:
			return nil, err
		case resp.NotModified && cachedSum != nil:
			raw, fromCache = cachedSum.data, true
		default:
			raw, sumResp = resp.Data, resp
		}
	}
	if verify != nil {
		if err := verify(ctx, raw, sig); err != nil {
			if !fromCache {
				return nil, err
			}
			// The cached summary does not go with the signature: fetch
			// it afresh, without cache headers.
			resp, err2 := c.Get(ctx, base, "summary", fetch.Request{Max: MaxMetadataSize})
			if err2 != nil {
				return nil, err2
			}
			raw, sumResp, fromCache = resp.Data, resp, false
			if err := verify(ctx, raw, sig); err != nil {
				return nil, err
			}
		}
	}
	if raw == nil {
		return nil, nil
	}
	s, err := ParseSummary(raw)
	if err != nil {
		return nil, err
	}
	s.Sig, s.FromCache = sig, fromCache
	if sumResp != nil && base[0].Scheme != "file" {
		if err := saveCached(r, name, sumResp); err == nil {
			if sigResp != nil {
				_ = saveCached(r, name+".sig", sigResp)
			} else if sig == nil {
				_ = os.Remove(filepath.Join(dir, name+".sig"))
			}
		}
	} else if sigResp != nil && fromCache && base[0].Scheme != "file" {
		_ = saveCached(r, name+".sig", sigResp) // new properties, same bytes
	}
	return s, nil
}

// WriteMirrorSummary stores a mirrored remote's summary (and its
// signature, or none) as the repository's own, as ostree pull --mirror
// does when it pulls every ref.
func WriteMirrorSummary(r *repo.Repo, s *Summary) error {
	if err := fsutil.WriteFileAtomic(filepath.Join(r.Path(), "summary"), s.Raw, 0o644, r.Fsync()); err != nil {
		return err
	}
	sig := filepath.Join(r.Path(), "summary.sig")
	if s.Sig != nil {
		return fsutil.WriteFileAtomic(sig, s.Sig, 0o644, r.Fsync())
	}
	if err := os.Remove(sig); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
