package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Errors returned by this package. Errors about one request are
// *Error values wrapping these (or the transport's error).
var (
	// ErrNotFound: HTTP 404, 403 or 410, or a missing file (ostree maps
	// the three statuses the same way). Never retried.
	ErrNotFound = errors.New("fetch: not found")
	// ErrTooLarge: the response is larger than the caller's limit.
	ErrTooLarge = errors.New("fetch: response too large")
	// ErrStalled: no byte arrived for Options.StallTimeout.
	ErrStalled = errors.New("fetch: transfer stalled")
	// ErrRedirects: more redirects than Options.MaxRedirects.
	ErrRedirects = errors.New("fetch: too many redirects")
)

// Defaults for Options' zero values.
const (
	DefaultRetries         = 5 // ostree's n-network-retries
	DefaultMaxConns        = 8 // ostree's max-outstanding-fetcher-requests
	DefaultConnectTimeout  = 30 * time.Second
	DefaultResponseTimeout = 60 * time.Second
	DefaultStallTimeout    = 30 * time.Second // ostree's low-speed-time
	DefaultMaxRedirects    = 10
	DefaultRetryDelay      = 200 * time.Millisecond
)

// Options configure a Client. Zero values mean the defaults above.
type Options struct {
	// Retries is how many times a request that failed transiently (5xx,
	// 408, 429, timeouts, stalls, resets, truncated bodies) is tried
	// again; negative means DefaultRetries, 0 none.
	Retries int
	// MaxConns bounds the connections per host (and so the requests in
	// flight to it).
	MaxConns int
	// TLSPermissive skips certificate verification (tls-permissive).
	TLSPermissive bool
	// CAPath is a PEM file of CA certificates that replaces the system's
	// (tls-ca-path).
	CAPath string
	// ClientCertPath and ClientKeyPath name a PEM client certificate and
	// its key (tls-client-cert-path, tls-client-key-path).
	ClientCertPath, ClientKeyPath string
	// Proxy is a proxy URL (proxy); empty uses $http_proxy and friends.
	Proxy string
	// DisableHTTP2 keeps to HTTP/1.1 (http2=false); HTTP/2 is used where
	// a TLS server offers it otherwise.
	DisableHTTP2 bool
	// Headers are added to every request (--http-header NAME=VALUE).
	Headers [][2]string
	// UserAgent, when set, replaces the default ("grove").
	UserAgent string
	// ConnectTimeout bounds connecting and the TLS handshake;
	// ResponseTimeout the wait for response headers once the request is
	// sent; StallTimeout the wait for the next body byte.
	ConnectTimeout, ResponseTimeout, StallTimeout time.Duration
	// MaxRedirects bounds the redirects followed for one request.
	MaxRedirects int
	// RetryDelay is the wait before the first retry, doubled for each
	// next one (up to 5 s).
	RetryDelay time.Duration
}

// Client fetches files over HTTP(S) or from file:// URLs with one pooled
// keep-alive connection set. It is safe for concurrent use.
type Client struct {
	hc       *http.Client
	opts     Options
	received atomic.Int64
}

// BytesReceived is how many body bytes the client has read so far.
func (c *Client) BytesReceived() int64 { return c.received.Load() }

// New builds a Client.
func New(opts Options) (*Client, error) {
	if opts.Retries < 0 {
		opts.Retries = DefaultRetries
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.ConnectTimeout, DefaultConnectTimeout)
	def(&opts.ResponseTimeout, DefaultResponseTimeout)
	def(&opts.StallTimeout, DefaultStallTimeout)
	def(&opts.RetryDelay, DefaultRetryDelay)
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "grove"
	}
	tc := &tls.Config{InsecureSkipVerify: opts.TLSPermissive} //nolint:gosec // tls-permissive asks for it
	if opts.CAPath != "" {
		pem, err := os.ReadFile(opts.CAPath)
		if err != nil {
			return nil, fmt.Errorf("fetch: tls-ca-path: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("fetch: tls-ca-path %s: no PEM certificate", opts.CAPath)
		}
		tc.RootCAs = pool
	}
	if opts.ClientCertPath != "" || opts.ClientKeyPath != "" {
		if opts.ClientCertPath == "" || opts.ClientKeyPath == "" {
			return nil, errors.New("fetch: tls-client-cert-path and tls-client-key-path go together")
		}
		cert, err := tls.LoadX509KeyPair(opts.ClientCertPath, opts.ClientKeyPath)
		if err != nil {
			return nil, fmt.Errorf("fetch: client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	proxy := http.ProxyFromEnvironment
	if opts.Proxy != "" {
		pu, err := url.Parse(opts.Proxy)
		if err != nil {
			return nil, fmt.Errorf("fetch: proxy: %w", err)
		}
		proxy = http.ProxyURL(pu)
	}
	dialer := &net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   opts.ConnectTimeout,
		ResponseHeaderTimeout: opts.ResponseTimeout,
		MaxIdleConns:          4 * opts.MaxConns,
		MaxIdleConnsPerHost:   opts.MaxConns,
		MaxConnsPerHost:       opts.MaxConns,
		IdleConnTimeout:       90 * time.Second,
		// Objects are compressed already and their sizes must be exact.
		DisableCompression: true,
		ForceAttemptHTTP2:  !opts.DisableHTTP2,
	}
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(!opts.DisableHTTP2)
	tr.Protocols = &protos
	hc := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > opts.MaxRedirects {
				return fmt.Errorf("%w (%d)", ErrRedirects, opts.MaxRedirects)
			}
			return nil
		},
	}
	return &Client{hc: hc, opts: opts}, nil
}

// Close drops idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Error is a failed request: the URL, and why.
type Error struct {
	URL    string
	Status int // HTTP status, 0 when the request got none
	Err    error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		// ostree's wording.
		return fmt.Sprintf("While fetching %s: Server returned HTTP %d", e.URL, e.Status)
	}
	return fmt.Sprintf("While fetching %s: %v", e.URL, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Request says how to fetch one file.
type Request struct {
	// Max bounds the body; 0 means no bound.
	Max int64
	// IfNoneMatch and IfModifiedSince make the request conditional: a
	// 304 answer gives a Response with NotModified set and no data.
	IfNoneMatch     string
	IfModifiedSince time.Time
}

// Response is a fetched file.
type Response struct {
	Data         []byte
	ETag         string
	LastModified time.Time // zero when the server sent none
	Date         time.Time // the server's clock when it answered; zero when unknown
	NotModified  bool
}

// Get fetches path under base (a remote URL, or its mirrors) into memory,
// retrying transient failures.
func (c *Client) Get(ctx context.Context, base Mirrors, path string, req Request) (*Response, error) {
	var out *Response
	err := c.do(ctx, base, path, req, func(b *body) error {
		data, err := b.readAll(req.Max)
		if err != nil {
			return err
		}
		out = &Response{Data: data, ETag: b.etag, LastModified: b.lastModified, Date: b.date, NotModified: b.notModified}
		return nil
	})
	return out, err
}

// Stream fetches path under base and hands the body (of size bytes, -1
// when unknown) to fn. When the transfer fails transiently, fn's error
// is dropped and the whole exchange, fn included, is tried again: fn must
// be safe to repeat. Errors fn returns for other reasons end the call.
func (c *Client) Stream(ctx context.Context, base Mirrors, path string, max int64, fn func(r io.Reader, size int64) error) error {
	return c.do(ctx, base, path, Request{Max: max}, func(b *body) error {
		if max > 0 && b.size > max {
			return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, b.size, max)
		}
		r := io.Reader(b)
		if max > 0 {
			r = &limited{r: b, left: max}
		}
		err := fn(r, b.size)
		if b.err != nil {
			return b.err // the transfer failed, whatever fn made of it
		}
		if err != nil {
			return finalError{err} // the bytes arrived: trying again gives the same
		}
		return nil
	})
}

// do runs one request with retries around the mirror loop, as ostree.
func (c *Client) do(ctx context.Context, base Mirrors, path string, req Request, fn func(*body) error) error {
	if len(base) == 0 {
		return errors.New("fetch: no URL")
	}
	delay := c.opts.RetryDelay
	for attempt := 0; ; attempt++ {
		var err error
		for i, m := range base {
			err = c.once(ctx, m.JoinPath(path), req, fn)
			if err == nil || i == len(base)-1 || ctx.Err() != nil {
				break
			}
		}
		if err == nil || attempt >= c.opts.Retries || !Transient(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// Transient reports whether err is worth retrying: a server error (5xx,
// 408, 429), a timeout or stall, a reset or closed connection, a body
// cut short. Not found, TLS and size errors are final.
func Transient(err error) bool {
	var final finalError
	if errors.As(err, &final) {
		return false
	}
	var fe *Error
	if errors.As(err, &fe) && fe.Status != 0 {
		return fe.Status >= 500 || fe.Status == 408 || fe.Status == 429
	}
	if errors.Is(err, ErrStalled) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	if errors.Is(err, io.EOF) && !errors.Is(err, ErrNotFound) {
		return true // the server closed the connection before answering
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// once makes one request to u.
func (c *Client) once(ctx context.Context, u *url.URL, req Request, fn func(*body) error) error {
	if u.Scheme == "file" {
		return c.file(u, fn)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return &Error{URL: u.String(), Err: err}
	}
	hr.Header.Set("User-Agent", c.opts.UserAgent)
	for _, h := range c.opts.Headers {
		hr.Header.Add(h[0], h[1])
	}
	if req.IfNoneMatch != "" {
		hr.Header.Set("If-None-Match", req.IfNoneMatch)
	}
	if !req.IfModifiedSince.IsZero() {
		hr.Header.Set("If-Modified-Since", req.IfModifiedSince.UTC().Format(http.TimeFormat))
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return &Error{URL: u.String(), Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	b := &body{rc: resp.Body, size: resp.ContentLength, etag: resp.Header.Get("ETag"), url: u.String(), count: &c.received}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		b.lastModified = lm
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		b.date = d
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && (req.IfNoneMatch != "" || !req.IfModifiedSince.IsZero()):
		b.notModified = true
		b.size = 0
		b.rc = http.NoBody
	case resp.StatusCode == 404 || resp.StatusCode == 403 || resp.StatusCode == 410:
		return &Error{URL: u.String(), Status: resp.StatusCode, Err: ErrNotFound}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return &Error{URL: u.String(), Status: resp.StatusCode, Err: errors.New(resp.Status)}
	}
	if req.Max > 0 && b.size > req.Max {
		return &Error{URL: u.String(), Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, b.size, req.Max)}
	}
	// A server that stops sending must not hang the pull: waiting
	// StallTimeout for the next bytes cancels the request. (Only time
	// spent waiting counts: a consumer busy writing is not a stall.)
	b.stall = c.opts.StallTimeout
	b.timer = time.AfterFunc(time.Hour, func() { cancel(ErrStalled) })
	b.timer.Stop()
	b.cause = func() error { return context.Cause(ctx) }
	defer b.timer.Stop()
	if err := fn(b); err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return err
		}
		return &Error{URL: u.String(), Err: err}
	}
	b.drain()
	return nil
}

// unwrapURLError drops net/http's *url.Error wrapper (whose text repeats
// the URL that Error prints already).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// file serves a file:// URL from the filesystem.
func (c *Client) file(u *url.URL, fn func(*body) error) error {
	p := filepath.FromSlash(u.Path)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return &Error{URL: u.String(), Err: fmt.Errorf("%w: %w", ErrNotFound, err)}
	}
	if err != nil {
		return &Error{URL: u.String(), Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return &Error{URL: u.String(), Err: err}
	}
	if st.IsDir() {
		return &Error{URL: u.String(), Err: fmt.Errorf("%w: is a directory", ErrNotFound)}
	}
	b := &body{rc: f, size: st.Size(), url: u.String(), lastModified: st.ModTime(), count: &c.received}
	if err := fn(b); err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return err
		}
		return &Error{URL: u.String(), Err: err}
	}
	return nil
}

// body reads a response body, restarting the stall timer on every byte
// and remembering the first transfer error (to tell it from the caller's
// own errors).
type body struct {
	rc           io.ReadCloser
	size         int64
	url          string
	etag         string
	lastModified time.Time
	date         time.Time
	notModified  bool
	stall        time.Duration
	timer        *time.Timer
	cause        func() error
	err          error
	count        *atomic.Int64
}

func (b *body) Read(p []byte) (int, error) {
	if b.timer != nil {
		b.timer.Reset(b.stall)
	}
	n, err := b.rc.Read(p)
	if b.timer != nil {
		b.timer.Stop()
	}
	if n > 0 {
		b.count.Add(int64(n))
	}
	if err != nil && err != io.EOF {
		if b.cause != nil && errors.Is(b.cause(), ErrStalled) {
			err = fmt.Errorf("%w: no data for %s", ErrStalled, b.stall)
		}
		if b.err == nil {
			b.err = &Error{URL: b.url, Err: err}
		}
		return n, b.err
	}
	return n, err
}

func (b *body) readAll(max int64) ([]byte, error) {
	var r io.Reader = b
	if max > 0 {
		r = &limited{r: b, left: max}
	}
	hint := b.size
	if hint < 0 || hint > 1<<20 {
		hint = 512
	}
	buf := make([]byte, 0, hint+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// drain reads what is left of a small body, so that the connection can
// carry the next request.
func (b *body) drain() {
	_, _ = io.CopyN(io.Discard, b.rc, 64<<10)
}

// limited is io.LimitReader that fails, instead of stopping, past the
// limit.
type limited struct {
	r    io.Reader
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.left)
	}
	l.left -= int64(n)
	return n, err
}

// finalError is an error of the caller's about bytes that arrived whole:
// never retried, even if it wraps io.ErrUnexpectedEOF from parsing them.
type finalError struct{ err error }

func (e finalError) Error() string { return e.err.Error() }
func (e finalError) Unwrap() error { return e.err }

// Mirrors is a remote's base URL: the one configured, or the mirrors a
// mirrorlist= URL lists. A request tries them in turn.
type Mirrors []*url.URL

// ParseURL parses a plain base URL (http, https or file).
func ParseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	switch u.Scheme {
	case "http", "https", "file":
	default:
		return nil, fmt.Errorf("fetch: unsupported URL scheme %q in %s", u.Scheme, s)
	}
	return u, nil
}

// Resolve turns a url/contenturl setting into Mirrors: "mirrorlist=URL"
// fetches the list (one URL per line; blank lines and # comments
// skipped), anything else is one URL.
func (c *Client) Resolve(ctx context.Context, spec string) (Mirrors, error) {
	list, ok := strings.CutPrefix(spec, "mirrorlist=")
	if !ok {
		u, err := ParseURL(spec)
		if err != nil {
			return nil, err
		}
		return Mirrors{u}, nil
	}
	lu, err := ParseURL(list)
	if err != nil {
		return nil, err
	}
	resp, err := c.Get(ctx, Mirrors{lu}, "", Request{Max: 1 << 20})
	if err != nil {
		return nil, err
	}
	var out Mirrors
	for _, line := range strings.Split(string(resp.Data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, err := ParseURL(line)
		if err != nil || u.Scheme == "file" {
			continue // ostree accepts no local mirrors either
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("fetch: no valid mirrors were found in mirrorlist '%s'", list)
	}
	return out, nil
}
