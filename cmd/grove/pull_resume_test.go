package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/groveos/grove/core/repotest"
)

// TestPullKilledThenResumed: a grove pull is killed with SIGKILL while the
// server holds back the rest of the objects; the repository is fsck-clean,
// and the next pull completes without asking for any object that the
// killed one had stored (the server counts every request).
func TestPullKilledThenResumed(t *testing.T) {
	t.Parallel()
	repotest.NeedOstree(t)
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	for i := range 240 {
		repotest.WriteFile(t, fmt.Sprintf("%s/d%02d/f%03d", tree, i%12, i), strings.Repeat(fmt.Sprintf("file %d\n", i), 100+i), 0o644)
	}
	pub := filepath.Join(dir, "pub")
	repotest.Ostree(t, "--repo="+pub, "init", "--mode=archive")
	c := repotest.Ostree(t, "--repo="+pub, "commit", "-b", "main", "--tree=dir="+tree)
	repotest.Ostree(t, "--repo="+pub, "summary", "-u")

	var mu sync.Mutex
	var served int
	var log []string
	gate := make(chan struct{})
	files := http.FileServer(http.Dir(pub))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		log = append(log, r.URL.Path)
		hold := false
		if strings.HasSuffix(r.URL.Path, ".filez") {
			served++
			hold = served > 120
		}
		mu.Unlock()
		if hold {
			select { // the rest waits until the test lets it through
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var once sync.Once
	openGate := func() { once.Do(func() { close(gate) }) }
	defer openGate()

	dst := filepath.Join(dir, "dst")
	grove(t, "--repo="+dst, "init", "--mode=bare-user")
	grove(t, "--repo="+dst, "remote", "add", "--no-gpg-verify", "origin", srv.URL, "main")
	cmd := exec.Command(groveBin, "--repo="+dst, "pull", "origin")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until a checkpoint has moved objects into the repository.
	stored := func() map[string]bool {
		out := map[string]bool{}
		filepath.Walk(filepath.Join(dst, "objects"), func(p string, info os.FileInfo, err error) error {
			if err == nil && !info.IsDir() {
				out[filepath.Base(filepath.Dir(p))+filepath.Base(p)] = true
			}
			return nil
		})
		return out
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(stored()) < 100 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no checkpoint after 60 s (%d objects stored)", len(stored()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")
	before := stored()
	if out := grove(t, "--repo="+dst, "refs"); out != "" {
		t.Fatalf("a killed pull moved a ref: %q", out)
	}

	mu.Lock()
	log = nil
	mu.Unlock()
	openGate()
	grove(t, "--repo="+dst, "pull", "origin")
	if got := strings.TrimSpace(grove(t, "--repo="+dst, "rev-parse", "origin:main")); got != c {
		t.Fatalf("origin:main = %s, want %s", got, c)
	}
	inspMustRun(t, "ostree", "--repo="+dst, "fsck")
	mu.Lock()
	defer mu.Unlock()
	again := 0
	for _, p := range log {
		rest, ok := strings.CutPrefix(p, "/objects/")
		if !ok {
			continue
		}
		name := strings.Replace(strings.TrimSuffix(rest, "z"), "/", "", 1) // XX/REST.filez → XXREST.file
		if before[name] {
			t.Errorf("fetched again after the resume: %s", p)
		}
		again++
	}
	if again == 0 || again >= 240 {
		t.Errorf("second pull asked for %d objects; the first stored %d", again, len(before))
	}
}
