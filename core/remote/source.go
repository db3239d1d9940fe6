package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/groveos/grove/core/fetch"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/pull"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/summary"
)

// ErrMode: the remote is not an archive repository, which is all a
// static server can serve.
var ErrMode = errors.New("remote: not an archive repository")

// SourceOptions configure Open.
type SourceOptions struct {
	// URL, when set, replaces the remote's url (pull --url).
	URL string
	// Headers are added to every request (pull --http-header).
	Headers [][2]string
	// Retries for transient failures; negative means fetch's default.
	Retries int
	// Fetch is applied last to the transport options built from the
	// remote's configuration (tests shorten timeouts with it).
	Fetch func(*fetch.Options)
	// VerifySummary checks the summary and its summary.sig (nil when the
	// remote has none) before anything is read from it.
	VerifySummary func(ctx context.Context, summary, sig []byte) error
}

// FetchOptions maps a remote's options to the transport's: tls-permissive,
// tls-ca-path, tls-client-cert-path, tls-client-key-path, http2, proxy.
func FetchOptions(rem *Remote, o SourceOptions) (fetch.Options, error) {
	fo := fetch.Options{Retries: o.Retries, Headers: o.Headers}
	var err error
	if fo.TLSPermissive, err = rem.Bool("tls-permissive", false); err != nil {
		return fo, err
	}
	http2, err := rem.Bool("http2", true)
	if err != nil {
		return fo, err
	}
	fo.DisableHTTP2 = !http2
	fo.CAPath, _ = rem.Option("tls-ca-path")
	fo.ClientCertPath, _ = rem.Option("tls-client-cert-path")
	fo.ClientKeyPath, _ = rem.Option("tls-client-key-path")
	fo.Proxy, _ = rem.Option("proxy")
	if o.Fetch != nil {
		o.Fetch(&fo)
	}
	return fo, nil
}

// Source reads a remote over HTTP(S): metadata (summary, refs, commit
// metadata) under url, objects under contenturl. It is a pull.Source,
// hands .filez bytes over as they come (pull.RawArchiver) and serves
// other files (pull.Files) to static deltas.
type Source struct {
	remote  *Remote
	client  *fetch.Client
	meta    fetch.Mirrors // url
	content fetch.Mirrors // contenturl, else url
	summary *Summary      // nil when the remote has none
	conns   int
}

var (
	_ pull.Source      = (*Source)(nil)
	_ pull.RawArchiver = (*Source)(nil)
	_ pull.Files       = (*Source)(nil)
	_ pull.Concurrent  = (*Source)(nil)
)

// Open prepares to pull from rem: the transport, the mirrors, and the
// summary (fetched and cached as ostree does, verified by
// o.VerifySummary). A file:// URL opens the repository at that path
// directly, as ostree imports from local repositories: the result is then
// a pull.LocalSource (trusted, unless the caller pulls untrusted).
func Open(ctx context.Context, r *repo.Repo, rem *Remote, o SourceOptions) (pull.Source, error) {
	spec := o.URL
	if spec == "" {
		var err error
		if spec, err = rem.URL(); err != nil {
			return nil, err
		}
	}
	if p, ok := strings.CutPrefix(spec, "file://"); ok {
		u, err := url.Parse(spec)
		if err == nil {
			p = u.Path
		}
		local, err := repo.Open(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("remote %s: %w", rem.Name, err)
		}
		return pull.NewNamedLocalSource(local, rem.Name), nil
	}
	s, err := OpenHTTP(ctx, r, rem, spec, o)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenHTTP is Open for a remote served over HTTP(S) (or read through
// file:// URLs as if it were), with spec as its url.
func OpenHTTP(ctx context.Context, r *repo.Repo, rem *Remote, spec string, o SourceOptions) (*Source, error) {
	fo, err := FetchOptions(rem, o)
	if err != nil {
		return nil, err
	}
	c, err := fetch.New(fo)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", rem.Name, err)
	}
	s := &Source{remote: rem, client: c, conns: fo.MaxConns}
	if s.conns <= 0 {
		s.conns = fetch.DefaultMaxConns
	}
	if s.meta, err = c.Resolve(ctx, spec); err != nil {
		return nil, fmt.Errorf("remote %s: %w", rem.Name, err)
	}
	s.content = s.meta
	if cu, ok := rem.Option("contenturl"); ok && cu != "" && o.URL == "" {
		if s.content, err = c.Resolve(ctx, cu); err != nil {
			return nil, fmt.Errorf("remote %s: %w", rem.Name, err)
		}
	}
	if s.summary, err = FetchSummary(ctx, r, c, s.meta, rem.Name, o.VerifySummary); err != nil {
		return nil, fmt.Errorf("remote %s: %w", rem.Name, err)
	}
	if err := s.checkMode(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// checkMode refuses a remote that says it is not an archive repository:
// the summary's ostree.summary.mode, else the remote's config if it has
// one.
func (s *Source) checkMode(ctx context.Context) error {
	var mode string
	if s.summary != nil {
		v, _ := s.summary.Lookup(summary.KeyMode)
		mode, _ = v.(string)
	}
	if mode == "" {
		resp, err := s.client.Get(ctx, s.meta, "config", fetch.Request{Max: 1 << 20})
		if errors.Is(err, fetch.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("remote %s: %w", s.remote.Name, err)
		}
		kf, err := keyfile.Parse(resp.Data)
		if err != nil {
			return fmt.Errorf("remote %s: config: %w", s.remote.Name, err)
		}
		mode = kf.String("core", "mode", "bare")
	}
	if m, err := repo.ParseMode(mode); err != nil || m != repo.ModeArchive {
		return oerr(ErrMode, "Can't pull from archives with mode \"%s\"", mode)
	}
	return nil
}

// Close drops the transport's idle connections.
func (s *Source) Close() { s.client.Close() }

// Summary is the remote's summary; nil when it has none.
func (s *Source) Summary() *Summary { return s.summary }

// BytesReceived is how many bytes came over the network so far.
func (s *Source) BytesReceived() int64 { return s.client.BytesReceived() }

// Name is the remote's name.
func (s *Source) Name() string { return s.remote.Name }

// Concurrency: as many requests in flight as connections.
func (s *Source) Concurrency() (meta, content int) { return s.conns, s.conns }

func notFound(err error) error {
	if errors.Is(err, fetch.ErrNotFound) {
		return pull.NotFound(err)
	}
	return err
}

// ReadMeta fetches a metadata object: commit metadata from url, the rest
// from contenturl (as ostree). A commit is capped at the size the summary
// gives for it, everything else at MaxMetadataSize.
func (s *Source) ReadMeta(ctx context.Context, name oid.ObjectName) ([]byte, error) {
	base, max := s.content, int64(MaxMetadataSize)
	switch name.Type {
	case oid.CommitMeta:
		base = s.meta
	case oid.Commit:
		if s.summary != nil {
			for _, ref := range s.summary.Refs {
				if ref.Commit == name.Checksum && ref.Size > 0 && ref.Size < MaxMetadataSize {
					max = int64(ref.Size)
				}
			}
		}
	}
	resp, err := s.client.Get(ctx, base, repo.ArchivePath(name), fetch.Request{Max: max})
	if err != nil {
		return nil, notFound(err)
	}
	return resp.Data, nil
}

// inMemory is the largest object read whole before it is decoded:
// klauspost's inflater is faster on a *bytes.Reader, and the body comes in
// a few large reads.
const inMemory = 1 << 20

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// streamObject fetches a .filez object and hands it to fn: small ones
// (with a Content-Length) as a *bytes.Reader over the whole body.
func (s *Source) streamObject(ctx context.Context, sum oid.Checksum, fn func(io.Reader) error) error {
	name := oid.ObjectName{Checksum: sum, Type: oid.File}
	err := s.client.Stream(ctx, s.content, repo.ArchivePath(name), 0, func(r io.Reader, size int64) error {
		if size < 0 || size > inMemory {
			return fn(r)
		}
		bp := bodyBufs.Get().(*[]byte)
		defer bodyBufs.Put(bp)
		if int64(cap(*bp)) < size {
			*bp = make([]byte, 0, size)
		}
		buf := (*bp)[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		return fn(bytes.NewReader(buf))
	})
	return notFound(err)
}

// ReadContent fetches a .filez object and decodes it.
func (s *Source) ReadContent(ctx context.Context, sum oid.Checksum, fn func(*pull.Content) error) error {
	return s.streamObject(ctx, sum, func(r io.Reader) error {
		c, release, err := pull.OpenArchive(r)
		if err != nil {
			return err
		}
		defer release()
		return fn(c)
	})
}

// ReadRawArchive fetches a .filez object's bytes as they are.
func (s *Source) ReadRawArchive(ctx context.Context, sum oid.Checksum, fn func(io.Reader) error) error {
	return s.streamObject(ctx, sum, fn)
}

// ReadFile fetches another file of the remote (deltas/…, delta-indexes/…)
// from contenturl.
func (s *Source) ReadFile(ctx context.Context, path string, max int64) ([]byte, error) {
	resp, err := s.client.Get(ctx, s.content, path, fetch.Request{Max: max})
	if err != nil {
		return nil, notFound(err)
	}
	return resp.Data, nil
}

// Refs lists the summary's refs; a remote without a summary cannot list
// its refs.
func (s *Source) Refs(ctx context.Context) (map[string]oid.Checksum, error) {
	if s.summary == nil {
		return nil, fmt.Errorf("Fetching all refs was requested in mirror mode, but remote repository does not have a summary")
	}
	out := map[string]oid.Checksum{}
	for name, ref := range s.summary.Refs {
		out[name] = ref.Commit
	}
	return out, nil
}

// ResolveRef looks the ref up in the summary, or fetches refs/heads/REF
// when the remote has no summary.
func (s *Source) ResolveRef(ctx context.Context, ref string) (oid.Checksum, error) {
	if s.summary != nil {
		r, ok := s.summary.Refs[ref]
		if !ok {
			return oid.Checksum{}, pull.NotFound(fmt.Errorf("No such branch '%s' in repository summary", ref))
		}
		return r.Commit, nil
	}
	resp, err := s.client.Get(ctx, s.meta, "refs/heads/"+ref, fetch.Request{Max: 1024})
	if err != nil {
		return oid.Checksum{}, notFound(err)
	}
	text := string(bytes.TrimSpace(resp.Data))
	sum, err := oid.Parse(text)
	if err != nil {
		// A server answering 200 with an HTML page, say.
		return oid.Checksum{}, fmt.Errorf("refs/heads/%s: %w", ref, err)
	}
	return sum, nil
}

// FetchRemoteSummary gets a remote's summary for `remote refs` and
// `remote summary`: from its url (or its file:// repository), cached and
// verified as for a pull. A remote without a summary gives (nil, nil).
func FetchRemoteSummary(ctx context.Context, r *repo.Repo, rem *Remote, o SourceOptions) (*Summary, error) {
	spec := o.URL
	if spec == "" {
		var err error
		if spec, err = rem.URL(); err != nil {
			return nil, err
		}
	}
	fo, err := FetchOptions(rem, o)
	if err != nil {
		return nil, err
	}
	c, err := fetch.New(fo)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", rem.Name, err)
	}
	defer c.Close()
	base, err := c.Resolve(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", rem.Name, err)
	}
	return FetchSummary(ctx, r, c, base, rem.Name, o.VerifySummary)
}

// StaticDeltas lists the static deltas the summary names
// (ostree.static-deltas): "FROM-TO" or "TO" in hex → the SHA-256 of the
// delta's superblock. It is nil without a summary. (Static-delta pulls
// choose from it through pull.Options.Delta.)
func (s *Source) StaticDeltas() map[string]oid.Checksum {
	if s.summary == nil {
		return nil
	}
	v, ok := s.summary.Lookup(summary.KeyStaticDeltas)
	if !ok {
		return nil
	}
	entries, _ := v.([]gvariant.DictEntry)
	out := make(map[string]oid.Checksum, len(entries))
	for _, e := range entries {
		name, _ := e.Key.(string)
		vv, _ := e.Value.(gvariant.Variant)
		b, _ := vv.Value.([]byte)
		if sum, err := oid.FromBytes(b); err == nil && name != "" {
			out[name] = sum
		}
	}
	return out
}

// IndexedDeltas says whether the remote publishes delta-indexes/: the
// summary's ostree.summary.indexed-deltas, or without a summary
// core.indexed-deltas in the remote's config (fetched once; a missing
// config means no).
func (s *Source) IndexedDeltas(ctx context.Context) (bool, error) {
	if s.summary != nil {
		v, _ := s.summary.Lookup(summary.KeyIndexedDeltas)
		b, _ := v.(bool)
		return b, nil
	}
	resp, err := s.client.Get(ctx, s.meta, "config", fetch.Request{Max: 1 << 20})
	if errors.Is(err, fetch.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remote %s: %w", s.remote.Name, err)
	}
	kf, err := keyfile.Parse(resp.Data)
	if err != nil {
		return false, fmt.Errorf("remote %s: config: %w", s.remote.Name, err)
	}
	return kf.Bool("core", "indexed-deltas", false)
}
