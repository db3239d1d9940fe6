package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func mirrors(t *testing.T, raw string) Mirrors {
	t.Helper()
	u, err := ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	return Mirrors{u}
}

func newClient(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.RetryDelay == 0 {
		opts.RetryDelay = time.Millisecond
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestGetRetriesServerErrorsNotNotFound(t *testing.T) {
	t.Parallel()
	var hits500, hits404, hitsFlaky atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		hits500.Add(1)
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("/404", func(w http.ResponseWriter, r *http.Request) {
		hits404.Add(1)
		http.NotFound(w, r)
	})
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		if hitsFlaky.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "finally")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newClient(t, Options{Retries: 3})
	ctx := context.Background()
	base := mirrors(t, srv.URL)

	_, err := c.Get(ctx, base, "500", Request{})
	var fe *Error
	if !errors.As(err, &fe) || fe.Status != 500 {
		t.Fatalf("500: err = %v", err)
	}
	if got := hits500.Load(); got != 4 {
		t.Errorf("500 requested %d times, want 1 + 3 retries", got)
	}
	if want := "While fetching " + srv.URL + "/500: Server returned HTTP 500"; err.Error() != want {
		t.Errorf("error text %q, want %q", err, want)
	}

	_, err = c.Get(ctx, base, "404", Request{})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("404: err = %v", err)
	}
	if got := hits404.Load(); got != 1 {
		t.Errorf("404 requested %d times, want once (final)", got)
	}

	resp, err := c.Get(ctx, base, "flaky", Request{})
	if err != nil || string(resp.Data) != "finally" {
		t.Fatalf("flaky: %v %+v", err, resp)
	}
}

func TestStallTimesOutAndTruncatedBodyRetries(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	var stalls, truncs atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		stalls.Add(1)
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "abc")
		w.(http.Flusher).Flush()
		select { // hold the connection open, sending nothing
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/trunc", func(w http.ResponseWriter, r *http.Request) {
		truncs.Add(1)
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "short") // then the handler returns: body cut short
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newClient(t, Options{Retries: 1, StallTimeout: 150 * time.Millisecond})
	ctx := context.Background()
	base := mirrors(t, srv.URL)

	start := time.Now()
	_, err := c.Get(ctx, base, "stall", Request{})
	if !errors.Is(err, ErrStalled) {
		t.Fatalf("stall: err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stall took %s", d)
	}
	if got := stalls.Load(); got != 2 {
		t.Errorf("stalled request tried %d times, want 2", got)
	}

	_, err = c.Get(ctx, base, "trunc", Request{})
	if !errors.Is(err, io.ErrUnexpectedEOF) || !Transient(err) {
		t.Fatalf("trunc: err = %v", err)
	}
	if got := truncs.Load(); got != 2 {
		t.Errorf("truncated request tried %d times, want 2", got)
	}
}

func TestHeaderTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c := newClient(t, Options{Retries: 0, ResponseTimeout: 100 * time.Millisecond})
	_, err := c.Get(context.Background(), mirrors(t, srv.URL), "x", Request{})
	if err == nil || !Transient(err) {
		t.Fatalf("err = %v, want a (transient) timeout", err)
	}
}

func TestRedirectLoopAndSizeCaps(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 5000))
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for range 10 {
			w.Write(bytes.Repeat([]byte("y"), 1000))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/big", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newClient(t, Options{MaxRedirects: 3})
	ctx := context.Background()
	base := mirrors(t, srv.URL)
	if _, err := c.Get(ctx, base, "loop", Request{}); !errors.Is(err, ErrRedirects) || Transient(err) {
		t.Fatalf("loop: %v", err)
	}
	if r, err := c.Get(ctx, base, "moved", Request{}); err != nil || len(r.Data) != 5000 {
		t.Fatalf("one redirect: %v", err)
	}
	if _, err := c.Get(ctx, base, "big", Request{Max: 4999}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("big: %v", err)
	}
	if _, err := c.Get(ctx, base, "chunked", Request{Max: 2500}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("chunked: %v", err)
	}
	err := c.Stream(ctx, base, "chunked", 2500, func(r io.Reader, size int64) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("stream chunked: %v", err)
	}
	if r, err := c.Get(ctx, base, "big", Request{Max: 5000}); err != nil || len(r.Data) != 5000 {
		t.Fatalf("big at the limit: %v", err)
	}
}

func TestStreamRetriesFromTheStart(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "8")
		if n.Add(1) == 1 {
			io.WriteString(w, "1234") // cut short the first time
			return
		}
		io.WriteString(w, "12345678")
	}))
	defer srv.Close()
	c := newClient(t, Options{Retries: 2})
	var calls int
	var got []byte
	err := c.Stream(context.Background(), mirrors(t, srv.URL), "f", 0, func(r io.Reader, size int64) error {
		calls++
		b, err := io.ReadAll(r)
		got = b
		return err
	})
	if err != nil || string(got) != "12345678" || calls != 2 {
		t.Fatalf("err %v, got %q after %d calls", err, got, calls)
	}
	// An error of the caller's about bytes that arrived whole is final.
	calls = 0
	err = c.Stream(context.Background(), mirrors(t, srv.URL), "f", 0, func(r io.Reader, size int64) error {
		calls++
		io.ReadAll(r)
		return io.ErrUnexpectedEOF
	})
	if err == nil || calls != 1 {
		t.Fatalf("caller error: %v after %d calls", err, calls)
	}
}

func TestHeadersConditionalAndHTTP1(t *testing.T) {
	t.Parallel()
	mod := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var gotHeader, proto atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeader.Store(r.Header.Get("X-Token") + "|" + r.UserAgent())
		proto.Store(r.Proto)
		http.ServeContent(w, r, "summary", mod, strings.NewReader("summary bytes"))
	}))
	defer srv.Close()
	c := newClient(t, Options{Headers: [][2]string{{"X-Token", "s3cret"}}, UserAgent: "grove-test"})
	ctx := context.Background()
	base := mirrors(t, srv.URL)
	r, err := c.Get(ctx, base, "summary", Request{})
	if err != nil || string(r.Data) != "summary bytes" || !r.LastModified.Equal(mod) {
		t.Fatalf("get: %v %+v", err, r)
	}
	if got := gotHeader.Load(); got != "s3cret|grove-test" {
		t.Errorf("server saw %q", got)
	}
	r, err = c.Get(ctx, base, "summary", Request{IfModifiedSince: mod})
	if err != nil || !r.NotModified || len(r.Data) != 0 {
		t.Fatalf("conditional: %v %+v", err, r)
	}
	if p := proto.Load(); p != "HTTP/1.1" {
		t.Errorf("plain HTTP spoke %v", p)
	}
}

// tlsServer starts an HTTPS server (HTTP/2 enabled) and returns it with
// the path of its certificate in PEM.
func tlsServer(t *testing.T, h http.Handler) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

func TestTLS(t *testing.T) {
	t.Parallel()
	var proto atomic.Value
	srv, ca := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(r.Proto)
		io.WriteString(w, "secure")
	}))
	ctx := context.Background()
	base := mirrors(t, srv.URL)

	// Unknown CA: refused, and not retried.
	_, err := newClient(t, Options{}).Get(ctx, base, "x", Request{})
	if err == nil || Transient(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("unknown CA: %v", err)
	}
	for _, tc := range []struct {
		name  string
		opts  Options
		proto string
	}{
		{"tls-ca-path", Options{CAPath: ca}, "HTTP/2.0"},
		{"tls-permissive", Options{TLSPermissive: true}, "HTTP/2.0"},
		{"http2=false", Options{CAPath: ca, DisableHTTP2: true}, "HTTP/1.1"},
	} {
		r, err := newClient(t, tc.opts).Get(ctx, base, "x", Request{})
		if err != nil || string(r.Data) != "secure" {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if p := proto.Load(); p != tc.proto {
			t.Errorf("%s: spoke %v, want %s", tc.name, p, tc.proto)
		}
	}
}

func TestClientCertificate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no cert", http.StatusForbidden)
			return
		}
		io.WriteString(w, "hello "+r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	// The server's own certificate and key (httptest's) serve as a client
	// certificate too.
	cert := srv.TLS.Certificates[0]
	writePEM(t, filepath.Join(dir, "cert.pem"), "CERTIFICATE", cert.Certificate[0])
	writeKey(t, filepath.Join(dir, "key.pem"), cert.PrivateKey)
	ctx := context.Background()
	base := mirrors(t, srv.URL)
	if _, err := newClient(t, Options{TLSPermissive: true}).Get(ctx, base, "x", Request{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("without a client certificate: %v", err)
	}
	c := newClient(t, Options{TLSPermissive: true, ClientCertPath: filepath.Join(dir, "cert.pem"), ClientKeyPath: filepath.Join(dir, "key.pem")})
	r, err := c.Get(ctx, base, "x", Request{})
	if err != nil || !strings.HasPrefix(string(r.Data), "hello") {
		t.Fatalf("with a client certificate: %v", err)
	}
}

func TestFileURLAndMirrorlist(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "objects"), 0o755)
	os.WriteFile(filepath.Join(dir, "objects", "x"), []byte("local"), 0o644)
	c := newClient(t, Options{})
	ctx := context.Background()
	fbase := Mirrors{&url.URL{Scheme: "file", Path: dir}}
	r, err := c.Get(ctx, fbase, "objects/x", Request{})
	if err != nil || string(r.Data) != "local" {
		t.Fatalf("file: %v", err)
	}
	if _, err := c.Get(ctx, fbase, "objects/missing", Request{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("file missing: %v", err)
	}

	var deadHits atomic.Int64
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadHits.Add(1)
		http.NotFound(w, r)
	}))
	defer dead.Close()
	good := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer good.Close()
	list := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "# mirrors\n"+dead.URL+"\n\n"+good.URL+"/\n")
	}))
	defer list.Close()
	m, err := c.Resolve(ctx, "mirrorlist="+list.URL+"/mirrors")
	if err != nil || len(m) != 2 {
		t.Fatalf("mirrorlist: %v %v", m, err)
	}
	r, err = c.Get(ctx, m, "objects/x", Request{})
	if err != nil || string(r.Data) != "local" {
		t.Fatalf("via mirrors: %v", err)
	}
	if deadHits.Load() != 1 {
		t.Errorf("first mirror asked %d times", deadHits.Load())
	}
	if _, err := c.Get(ctx, m, "objects/missing", Request{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing everywhere: %v", err)
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t *testing.T, path string, key any) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "PRIVATE KEY", der)
}

func TestProxy(t *testing.T) {
	t.Parallel()
	var via atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		via.Store(r.URL.String()) // a proxy is asked for absolute URLs
		io.WriteString(w, "proxied")
	}))
	defer proxy.Close()
	c := newClient(t, Options{Proxy: proxy.URL})
	r, err := c.Get(context.Background(), mirrors(t, "http://repo.example.invalid/base"), "summary", Request{})
	if err != nil || string(r.Data) != "proxied" {
		t.Fatalf("%v", err)
	}
	if got := via.Load(); got != "http://repo.example.invalid/base/summary" {
		t.Errorf("proxy asked for %v", got)
	}
}

// TestSlowConsumerIsNotAStall: a caller that takes longer than the stall
// timeout between reads does not get its transfer cancelled.
func TestSlowConsumerIsNotAStall(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("z"), 1<<20))
	}))
	defer srv.Close()
	c := newClient(t, Options{Retries: 0, StallTimeout: 50 * time.Millisecond})
	err := c.Stream(context.Background(), mirrors(t, srv.URL), "f", 0, func(r io.Reader, size int64) error {
		buf := make([]byte, 256<<10)
		for {
			_, err := r.Read(buf)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			time.Sleep(80 * time.Millisecond) // a consumer slower than the stall timeout
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}
