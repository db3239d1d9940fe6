package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// publishFixture is what a build server publishes: the shared archive
// fixture made by the real ostree (testdata/ostree: ref main with two
// commits, the second a rich tree with detached metadata) with a summary
// from ostree summary -u. It returns the path, main^ and main.
func publishFixture(t *testing.T) (string, string, string) {
	t.Helper()
	repotest.NeedOstree(t)
	f := repotest.OstreeFixture(t, repo.ModeArchive)
	inspMustRun(t, "ostree", "--repo="+f.Path, "summary", "-u")
	return f.Path, f.Commits["main^"].String(), f.Commits["main"].String()
}

// startServer runs a server process and returns the URL it announces on
// its first line of output matching re; it is killed when the test ends.
func startServer(t *testing.T, re *regexp.Regexp, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				lines <- m[1]
				break
			}
		}
		// Keep draining so the server never blocks on a full pipe.
		for sc.Scan() {
		}
	}()
	select {
	case u := <-lines:
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not announce its address", name)
	}
	return ""
}

// groveServe serves dir with grove serve on a free port.
func groveServe(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	return startServer(t, regexp.MustCompile(`on (https?://\S+)/$`), groveBin, append(append([]string{"serve", "--port=0", "--address=127.0.0.1"}, extra...), dir)...)
}

// pythonServe serves dir with python3 -m http.server on a free port.
func pythonServe(t *testing.T, dir string) string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is required in CI")
		}
		t.Skip("python3 not installed")
	}
	return startServer(t, regexp.MustCompile(`port (\d+)`), "python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, "0")
}

var statusLine = regexp.MustCompile(`^\d+ metadata, \d+ content objects fetched; \d+ (B|KiB) transferred in \d+ seconds; .* content written\n$`)

func TestPullFromStaticServers(t *testing.T) {
	t.Parallel()
	pub, c1, c2 := publishFixture(t)
	want := t.TempDir() + "/want"
	inspMustRun(t, "ostree", "--repo="+pub, "checkout", "-U", "main", want)
	servers := map[string]string{
		"grove serve":    groveServe(t, pub),
		"python3 server": "http://127.0.0.1:" + pythonServe(t, pub),
	}
	for name, url := range servers {
		for _, mode := range []string{"bare-user", "archive"} {
			dst := t.TempDir() + "/dst"
			grove(t, "--repo="+dst, "init", "--mode="+mode)
			grove(t, "--repo="+dst, "remote", "add", "--no-gpg-verify", "origin", url, "main")
			out := grove(t, "--repo="+dst, "pull", "--depth=-1", "origin")
			if !statusLine.MatchString(out) {
				t.Errorf("%s → %s: status line %q", name, mode, out)
			}
			if got := strings.TrimSpace(grove(t, "--repo="+dst, "rev-parse", "origin:main")); got != c2 {
				t.Errorf("%s → %s: origin:main = %s, want %s", name, mode, got, c2)
			}
			inspMustRun(t, "ostree", "--repo="+dst, "fsck")
			inspMustRun(t, "ostree", "--repo="+dst, "show", c1) // the parent came too
			got := t.TempDir() + "/got"
			inspMustRun(t, "ostree", "--repo="+dst, "checkout", "-U", "origin:main", got)
			repotest.SameTree(t, want, got)
		}
	}
}

func TestPullOptions(t *testing.T) {
	t.Parallel()
	pub, c1, c2 := publishFixture(t)
	url := groveServe(t, pub)
	newClient := func(branches ...string) string {
		dst := t.TempDir() + "/dst"
		grove(t, "--repo="+dst, "init", "--mode=bare-user")
		grove(t, append([]string{"--repo=" + dst, "remote", "add", "--no-gpg-verify", "origin", url}, branches...)...)
		return dst
	}

	// ostree's default is gpg-verify=true: an unsigned commit is refused
	// with ostree's words, and no ref moves.
	dst := t.TempDir() + "/signed"
	grove(t, "--repo="+dst, "init", "--mode=bare-user")
	grove(t, "--repo="+dst, "remote", "add", "origin", url)
	_, errOut, err := groveErr(t, "--repo="+dst, "pull", "origin", "main")
	if err == nil || !strings.Contains(errOut, "Commit "+c2+": GPG verification enabled, but no signatures found (use gpg-verify=false in remote config to disable)") {
		t.Errorf("unsigned commit with gpg-verify: %v %s", err, errOut)
	}
	if out := grove(t, "--repo="+dst, "refs"); out != "" {
		t.Errorf("refs after a refused pull: %q", out)
	}
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")

	// No branch given and none configured.
	dst = newClient()
	if _, errOut, err := groveErr(t, "--repo="+dst, "pull", "origin"); err == nil || inspLastLine(errOut) != "error: No configured branches for remote origin" {
		t.Errorf("no branches: %v %q", err, errOut)
	}
	if _, errOut, err := groveErr(t, "--repo="+dst, "pull", "origin", "os/nope"); err == nil || !strings.Contains(errOut, "No such branch 'os/nope' in repository summary") {
		t.Errorf("missing branch: %v %q", err, errOut)
	}

	// REF@COMMIT pulls that commit and points the ref at it; the remote
	// ref form REMOTE:REF works too.
	grove(t, "--repo="+dst, "pull", "origin", "main@"+c1)
	if got := strings.TrimSpace(grove(t, "--repo="+dst, "rev-parse", "origin:main")); got != c1 {
		t.Errorf("main@c1 gave %s", got)
	}
	grove(t, "--repo="+dst, "pull", "origin:main")
	if got := strings.TrimSpace(grove(t, "--repo="+dst, "rev-parse", "origin:main")); got != c2 {
		t.Errorf("origin:main gave %s", got)
	}
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")

	// --commit-metadata-only leaves the commit partial; a full pull
	// completes it.
	dst = newClient("main")
	grove(t, "--repo="+dst, "pull", "--commit-metadata-only", "origin")
	if _, err := os.Stat(filepath.Join(dst, "state", c2+".commitpartial")); err != nil {
		t.Errorf("--commit-metadata-only: %v", err)
	}
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")
	grove(t, "--repo="+dst, "pull", "origin")
	if _, err := os.Stat(filepath.Join(dst, "state", c2+".commitpartial")); !os.IsNotExist(err) {
		t.Errorf("full pull left the commit partial: %v", err)
	}
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")

	// --subpath pulls one directory; the commit stays partial.
	dst = newClient("main")
	grove(t, "--repo="+dst, "pull", "--subpath=/usr/bin", "origin")
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")
	if _, err := os.Stat(filepath.Join(dst, "state", c2+".commitpartial")); err != nil {
		t.Errorf("--subpath: %v", err)
	}
	co := t.TempDir() + "/sub"
	inspMustRun(t, "ostree", "--repo="+dst, "checkout", "-U", "--subpath=/usr/bin", "origin:main", co)
	if _, err := os.Stat(co + "/tool"); err != nil {
		t.Errorf("--subpath=/usr/bin lacks tool: %v", err)
	}
	if _, errOut, err := groveErr(t, "--repo="+dst, "checkout", "-U", "origin:main", t.TempDir()+"/all"); err == nil {
		t.Errorf("checkout of the whole partial tree succeeded: %s", errOut)
	}

	// --mirror writes refs/heads and keeps the summary.
	dst = newClient()
	grove(t, "--repo="+dst, "pull", "--mirror", "origin")
	if got := strings.TrimSpace(grove(t, "--repo="+dst, "rev-parse", "main")); got != c2 {
		t.Errorf("--mirror: main = %s", got)
	}
	if a, b := readFile(t, pub+"/summary"), readFile(t, dst+"/summary"); !bytes.Equal(a, b) {
		t.Error("--mirror did not keep the remote's summary")
	}
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")

	// --progress-fd writes JSON lines, the last one final.
	dst = newClient("main")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(groveBin, "--repo="+dst, "pull", "--progress-fd=3", "origin")
	cmd.ExtraFiles = []*os.File{pw}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("progress line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pull --progress-fd: %v %s", err, stderr.String())
	}
	if len(lines) < 2 {
		t.Fatalf("%d progress lines", len(lines))
	}
	last := lines[len(lines)-1]
	if last["final"] != true || last["done"].(float64) < 10 || last["done"] != last["total"] {
		t.Errorf("last progress line %v", last)
	}
	for _, k := range []string{"phase", "done", "total", "bytes", "rate"} {
		if _, ok := lines[0][k]; !ok {
			t.Errorf("progress line lacks %s: %v", k, lines[0])
		}
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPullTransportOptions: --http-header reaches the server, --url
// replaces the remote's url, contenturl takes the objects elsewhere,
// mirrorlist= tries its mirrors in turn, --localcache-repo is used before
// the network, --timestamp-check refuses an older commit, --dry-run needs
// --require-static-deltas.
func TestPullTransportOptions(t *testing.T) {
	t.Parallel()
	pub, c1, c2 := publishFixture(t)
	var mu sync.Mutex
	var seen []string // "host path header"
	logged := func(tag string) http.Handler {
		fs := http.FileServer(http.Dir(pub))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, tag+" "+r.URL.Path+" "+r.Header.Get("X-Grove-Test"))
			mu.Unlock()
			fs.ServeHTTP(w, r)
		})
	}
	meta := httptest.NewServer(logged("meta"))
	defer meta.Close()
	content := httptest.NewServer(logged("content"))
	defer content.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	defer dead.Close()
	list := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s\n%s\n", dead.URL, meta.URL)
	}))
	defer list.Close()
	reset := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
	client := func(args ...string) string {
		dst := t.TempDir() + "/dst"
		grove(t, "--repo="+dst, "init", "--mode=bare-user")
		grove(t, append([]string{"--repo=" + dst, "remote", "add", "--no-gpg-verify"}, args...)...)
		return dst
	}

	// contenturl: objects from one server, summary and commitmeta from
	// the other; the header goes to both.
	dst := client("--contenturl="+content.URL, "origin", meta.URL)
	reset()
	grove(t, "--repo="+dst, "pull", "--http-header=X-Grove-Test=yes", "origin", "main")
	for _, l := range reset() {
		f := strings.Fields(l)
		if len(f) < 3 || f[2] != "yes" {
			t.Errorf("request without the header: %q", l)
		}
		// contenturl serves objects, delta indexes and deltas (ostree-format.md §5.1).
		isObject := strings.HasPrefix(f[1], "/objects/") && !strings.HasSuffix(f[1], ".commitmeta") ||
			strings.HasPrefix(f[1], "/delta-indexes/") || strings.HasPrefix(f[1], "/deltas/")
		if isObject != (f[0] == "content") {
			t.Errorf("%s asked from the %s server", f[1], f[0])
		}
	}
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")

	// --url replaces a dead url.
	dst = client("origin", dead.URL)
	grove(t, "--repo="+dst, "pull", "--url="+meta.URL, "origin", "main")
	if got := strings.TrimSpace(grove(t, "--repo="+dst, "rev-parse", "origin:main")); got != c2 {
		t.Errorf("--url: %s", got)
	}

	// mirrorlist=: the first mirror 404s, the second serves.
	dst = client("origin", "mirrorlist="+list.URL+"/mirrors")
	grove(t, "--repo="+dst, "pull", "origin", "main")
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")

	// --localcache-repo: a repository that has everything; the network is
	// asked for the summary and the commit's detached metadata only.
	cache := t.TempDir() + "/cache"
	grove(t, "--repo="+cache, "init", "--mode=archive")
	grove(t, "--repo="+cache, "pull-local", pub, "main")
	dst = client("origin", meta.URL)
	reset()
	out := grove(t, "--repo="+dst, "pull", "--localcache-repo="+cache, "origin", "main")
	for _, l := range reset() {
		if f := strings.Fields(l); strings.HasPrefix(f[1], "/objects/") && !strings.HasSuffix(f[1], ".commitmeta") {
			t.Errorf("asked the network for %s despite the local cache", f[1])
		}
	}
	if !strings.Contains(out, "local)") {
		t.Errorf("status line does not count local objects: %q", out)
	}
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")

	// --timestamp-check: going back to the older commit is refused.
	_, errOut, err := groveErr(t, "--repo="+dst, "pull", "--timestamp-check", "origin", "main@"+c1)
	if err == nil || !strings.Contains(errOut, "is chronologically older than current revision") {
		t.Errorf("--timestamp-check: %v %s", err, errOut)
	}
	grove(t, "--repo="+dst, "pull", "origin", "main@"+c1) // without it, allowed

	// A file:// remote reads the repository directly.
	dst = client("local", "file://"+pub)
	out = grove(t, "--repo="+dst, "pull", "local", "main")
	if !strings.HasSuffix(out, "content written\n") || !strings.Contains(out, "content objects imported") {
		t.Errorf("file:// status line %q", out)
	}
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")

	// --dry-run needs static deltas.
	if _, errOut, err := groveErr(t, "--repo="+dst, "pull", "--dry-run", "origin", "main"); err == nil || inspLastLine(errOut) != "error: --dry-run requires --require-static-deltas" {
		t.Errorf("--dry-run: %v %q", err, errOut)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "grove test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key = dir+"/cert.pem", dir+"/key.pem"
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, key
}

// TestPullOverHTTPS: grove serve --tls-cert/--tls-key; a client trusting
// the certificate through tls-ca-path pulls, one without it is refused
// (naming the certificate problem), tls-permissive gets through; ostree
// pulls with tls-ca-path too.
func TestPullOverHTTPS(t *testing.T) {
	t.Parallel()
	pub, _, c2 := publishFixture(t)
	cert, key := selfSigned(t)
	url := groveServe(t, pub, "--tls-cert="+cert, "--tls-key="+key)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("served at %s", url)
	}
	for _, tc := range []struct {
		set string
		ok  bool
	}{{"--set=tls-ca-path=" + cert, true}, {"--set=x=y", false}, {"--set=tls-permissive=true", true}} {
		dst := t.TempDir() + "/dst"
		grove(t, "--repo="+dst, "init", "--mode=bare-user")
		grove(t, "--repo="+dst, "remote", "add", "--no-gpg-verify", tc.set, "origin", url)
		_, errOut, err := groveErr(t, "--repo="+dst, "pull", "origin", "main")
		if (err == nil) != tc.ok || (!tc.ok && !strings.Contains(errOut, "certificate")) {
			t.Errorf("%s: %v %s", tc.set, err, errOut)
		}
		if tc.ok {
			if got := strings.TrimSpace(grove(t, "--repo="+dst, "rev-parse", "origin:main")); got != c2 {
				t.Errorf("%s: %s", tc.set, got)
			}
		}
	}
	dst := t.TempDir() + "/ostree"
	repotest.Ostree(t, "--repo="+dst, "init", "--mode=bare-user")
	repotest.Ostree(t, "--repo="+dst, "remote", "add", "--no-gpg-verify", "--set=tls-ca-path="+cert, "origin", url)
	if out, err := repotest.OstreeErr(t, "--repo="+dst, "pull", "origin", "main"); err != nil {
		t.Fatalf("ostree pull over https: %v\n%s", err, out)
	}
	repotest.Ostree(t, "--repo="+dst, "fsck")
}
