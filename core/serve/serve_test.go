package serve_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/serve"
)

func TestServe(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	os.WriteFile(filepath.Join(r.Path(), "summary"), []byte("0123456789"), 0o644)
	os.MkdirAll(filepath.Join(r.Path(), "refs/heads"), 0o755)
	os.WriteFile(filepath.Join(r.Path(), "refs/heads/main"), []byte("abc\n"), 0o644)
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("top secret"), 0o644)
	os.Symlink(secret, filepath.Join(r.Path(), "refs/heads/evil"))
	os.Symlink("main", filepath.Join(r.Path(), "refs/heads/alias"))
	os.WriteFile(filepath.Join(r.Path(), "tmp/private"), []byte("x"), 0o644)
	h, closeRoot, err := serve.Handler(r)
	if err != nil {
		t.Fatal(err)
	}
	defer closeRoot()
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(method, path string, hdr map[string]string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("GET", "/summary", nil)
	if resp.StatusCode != 200 || body != "0123456789" || resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("summary: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	etag := resp.Header.Get("ETag")
	if resp, _ := get("GET", "/summary", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", resp.StatusCode)
	}
	if resp, _ := get("GET", "/summary", map[string]string{"If-Modified-Since": resp.Header.Get("Last-Modified")}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d", resp.StatusCode)
	}
	if resp, body := get("GET", "/summary", map[string]string{"Range": "bytes=2-4"}); resp.StatusCode != http.StatusPartialContent || body != "234" {
		t.Errorf("range: %d %q", resp.StatusCode, body)
	}
	if resp, body := get("HEAD", "/summary", nil); resp.StatusCode != 200 || body != "" || resp.ContentLength != 10 {
		t.Errorf("HEAD: %d %q %d", resp.StatusCode, body, resp.ContentLength)
	}
	if resp, body := get("GET", "/refs/heads/alias", nil); resp.StatusCode != 200 || body != "abc\n" {
		t.Errorf("alias inside the repo: %d %q", resp.StatusCode, body)
	}
	for _, p := range []string{
		"/refs/heads/evil", "/tmp/private", "/.lock", "/state", "/objects", "/objects/",
		"/refs/../tmp/private", "/refs/%2e%2e/tmp/private", "/../../etc/passwd", "/", "/nope",
	} {
		resp, body := get("GET", p, nil)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "secret") {
			t.Errorf("%s: %d %q, want 404", p, resp.StatusCode, body)
		}
	}
	if resp, _ := get("PUT", "/summary", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", resp.StatusCode)
	}
	// A raw request line with ".." that no client library would clean.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /refs/../../"+filepath.Base(filepath.Dir(secret))+"/secret HTTP/1.0\r\n\r\n")
	raw, _ := io.ReadAll(conn)
	conn.Close()
	if !strings.HasPrefix(string(raw), "HTTP/1.0 404") || strings.Contains(string(raw), "top secret") {
		t.Errorf("raw ..: %q", raw)
	}
}

func TestServeRefusesBareRepos(t *testing.T) {
	r := repotest.NewRepo(t, repo.ModeBareUser)
	if _, _, err := serve.Handler(r); !errors.Is(err, serve.ErrNotArchive) {
		t.Fatalf("err = %v", err)
	}
}
