package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/delta/deltatest"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repotest"
)

// The static-delta verbs, driven as ostree's test-delta.sh drives
// ostree's, with ostree applying what grove writes and the reverse.
func TestStaticDeltaCLI(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 0)
	R := "--repo=" + p.Repo
	grove(t, R, "static-delta", "generate", "--empty", "--to="+p.To)
	out := grove(t, R, "static-delta", "generate", "--if-not-exists", "--empty", "--to="+p.To)
	if !strings.Contains(out, p.To+" already exists") {
		t.Fatalf("if-not-exists: %q", out)
	}
	// Without --from, FROM is TO's parent.
	_, errOut, err := groveErr(t, R, "static-delta", "generate", "--disable-bsdiff", "--to="+p.To)
	if err != nil || !strings.Contains(errOut, "bsdiff=0 objects") {
		t.Fatalf("generate --disable-bsdiff: %v %q", err, errOut)
	}
	_, errOut, err = groveErr(t, R, "static-delta", "generate", "--from="+p.From, "--to="+p.To)
	if err != nil || strings.Contains(errOut, "bsdiff=0 objects") {
		t.Fatalf("generate: %v %q", err, errOut)
	}
	list := grove(t, R, "static-delta", "list")
	if list != p.To+"\n"+p.From+"-"+p.To+"\n" && list != p.From+"-"+p.To+"\n"+p.To+"\n" {
		t.Fatalf("list: %q", list)
	}
	if ol := repotest.Ostree(t, R, "static-delta", "list"); !strings.Contains(ol, p.From+"-"+p.To) {
		t.Fatalf("ostree list: %q", ol)
	}
	show := grove(t, R, "static-delta", "show", p.From+"-"+p.To)
	for _, want := range []string{"From: " + p.From, "To: " + p.To, "Endianness: little", "Signed: no", "PartPayloadOps0:"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	if strings.Contains(show, "bspatch=0") {
		t.Errorf("no bsdiff in the from→to delta:\n%s", show)
	}
	// ostree's show of grove's delta agrees on the totals.
	oshow := repotest.Ostree(t, R, "static-delta", "show", p.From+"-"+p.To)
	if last := func(s string) string { l := strings.Split(strings.TrimSpace(s), "\n"); return l[len(l)-1] }; last(oshow) != last(show) {
		t.Errorf("totals differ: ostree %q, grove %q", last(oshow), last(show))
	}
	if _, errOut, err := groveErr(t, R, "static-delta", "show", "GARBAGE"); err == nil || !strings.Contains(errOut, "Invalid rev GARBAGE") {
		t.Errorf("show GARBAGE: %v %q", err, errOut)
	}

	// ostree applies grove's delta; grove applies ostree's.
	n := delta.Name{From: oid.MustParse(p.From), To: oid.MustParse(p.To)}
	dst := filepath.Join(t.TempDir(), "dst")
	repotest.Ostree(t, "--repo="+dst, "init", "--mode=bare-user")
	repotest.Ostree(t, "--repo="+dst, "pull-local", p.Repo, p.From)
	repotest.Ostree(t, "--repo="+dst, "static-delta", "apply-offline", filepath.Join(p.Repo, n.Dir()))
	repotest.Ostree(t, "--repo="+dst, "fsck")
	osb := filepath.Join(t.TempDir(), "superblock")
	repotest.Ostree(t, R, "static-delta", "generate", "--from="+p.From, "--to="+p.To, "--filename="+osb, "--set-endianness=B")
	gdst := filepath.Join(t.TempDir(), "gdst")
	grove(t, "--repo="+gdst, "init", "--mode=archive")
	repotest.Ostree(t, "--repo="+gdst, "pull-local", p.Repo, p.From)
	grove(t, "--repo="+gdst, "static-delta", "apply-offline", osb)
	repotest.Ostree(t, "--repo="+gdst, "fsck")
	if refs := grove(t, "--repo="+gdst, "refs"); strings.Contains(refs, "test") && strings.Count(refs, "\n") > 1 {
		t.Errorf("apply-offline moved refs: %q", refs)
	}
	// A delta whose FROM the client lacks: non-zero exit, ostree's words.
	empty := filepath.Join(t.TempDir(), "empty")
	grove(t, "--repo="+empty, "init", "--mode=bare-user")
	if _, errOut, err := groveErr(t, "--repo="+empty, "static-delta", "apply-offline", osb); err == nil || !strings.Contains(errOut, "which is the delta source, is not in repository") {
		t.Errorf("apply without FROM: %v %q", err, errOut)
	}

	// Indexes and the summary.
	grove(t, R, "static-delta", "reindex")
	if idx := grove(t, R, "static-delta", "indexes"); strings.TrimSpace(idx) != p.To {
		t.Errorf("indexes: %q", idx)
	}
	if ostreeIdx := repotest.Ostree(t, R, "static-delta", "indexes"); ostreeIdx != p.To {
		t.Errorf("ostree indexes: %q", ostreeIdx)
	}
	grove(t, R, "summary", "-u")
	if s := repotest.Ostree(t, R, "summary", "--view"); !strings.Contains(s, "ostree.static-deltas") || !strings.Contains(s, p.From+"-"+p.To) {
		t.Errorf("summary: %s", s)
	}
	// ostree pulls through grove's delta, using grove's index.
	pdst := filepath.Join(t.TempDir(), "pdst")
	repotest.Ostree(t, "--repo="+pdst, "init", "--mode=bare-user")
	repotest.Ostree(t, "--repo="+pdst, "pull-local", p.Repo, p.From)
	pout := repotest.Ostree(t, "--repo="+pdst, "pull-local", "--require-static-deltas", p.Repo, p.To)
	if !strings.Contains(pout, "1 delta parts") {
		t.Errorf("ostree pull-local through grove's delta: %q", pout)
	}
	repotest.Ostree(t, "--repo="+pdst, "fsck")

	grove(t, R, "static-delta", "delete", p.To)
	if l := grove(t, R, "static-delta", "list"); strings.Contains(l, p.To+"\n") && !strings.Contains(l, "-"+p.To) {
		t.Errorf("after delete: %q", l)
	}
	if _, errOut, err := groveErr(t, R, "static-delta", "delete", p.To); err == nil || !strings.Contains(errOut, "Can't find delta") {
		t.Errorf("delete twice: %v %q", err, errOut)
	}
}

// Deltas signed with ostree's dummy engine verify both ways.
func TestStaticDeltaDummySigned(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 0)
	env := append(os.Environ(), "OSTREE_DUMMY_SIGN_ENABLED=1")
	run := func(bin string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	R := "--repo=" + p.Repo
	gsb := filepath.Join(t.TempDir(), "grove.sb")
	if out, err := run(groveBin, R, "static-delta", "generate", "--empty", "--to="+p.To, "--filename="+gsb, "--sign-type=dummy", "--sign=sekrit"); err != nil {
		t.Fatalf("grove generate signed: %v %s", err, out)
	}
	if out, err := run(repotest.NeedOstree(t), R, "static-delta", "verify", "--sign-type=dummy", gsb, "sekrit"); err != nil || !strings.Contains(out, "Verification OK") {
		t.Errorf("ostree verify of grove's delta: %v %s", err, out)
	}
	if out, err := run(repotest.NeedOstree(t), R, "static-delta", "verify", "--sign-type=dummy", gsb, "wrong"); err == nil {
		t.Errorf("ostree verified with the wrong key: %s", out)
	}
	osb := filepath.Join(t.TempDir(), "ostree.sb")
	if out, err := run(repotest.NeedOstree(t), R, "static-delta", "generate", "--empty", "--to="+p.To, "--filename="+osb, "--sign-type=dummy", "--sign=sekrit"); err != nil {
		t.Fatalf("ostree generate signed: %v %s", err, out)
	}
	if out, err := run(groveBin, R, "static-delta", "show", osb); err != nil || !strings.Contains(out, "Signed: yes") {
		t.Errorf("show: %v %s", err, out)
	}
	if out, err := run(groveBin, R, "static-delta", "verify", "--sign-type=dummy", osb, "sekrit"); err != nil || !strings.Contains(out, "Verification OK") {
		t.Errorf("grove verify of ostree's delta: %v %s", err, out)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	grove(t, "--repo="+dst, "init", "--mode=bare-user")
	if out, err := run(groveBin, "--repo="+dst, "static-delta", "apply-offline", "--sign-type=dummy", osb, "wrong"); err == nil {
		t.Errorf("applied with the wrong key: %s", out)
	}
	if out, err := run(groveBin, "--repo="+dst, "static-delta", "apply-offline", "--sign-type=dummy", osb, "sekrit"); err != nil {
		t.Fatalf("apply-offline signed: %v %s", err, out)
	}
	repotest.Ostree(t, "--repo="+dst, "fsck")
}

// ostree pulls over HTTP through deltas grove generated (scratch, from→to,
// inline, many small parts), found through grove's summary and delta
// indexes; fsck is clean and the checkout equals the tree.
func TestOstreePullsGroveDeltasOverHTTP(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 600<<10)
	R := "--repo=" + p.Repo
	var mu sync.Mutex
	var fetched []string
	fs := http.FileServer(http.Dir(p.Repo))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetched = append(fetched, r.URL.Path)
		mu.Unlock()
		fs.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cases := []struct {
		name string
		gen  []string
		from bool
	}{
		{"scratch", []string{"--empty"}, false},
		{"from-to", []string{"--from=" + p.From}, true},
		{"inline", []string{"--from=" + p.From, "--inline"}, true},
		{"small-chunks", []string{"--empty", "--max-chunk-size=1"}, false},
	}
	for _, c := range cases {
		grove(t, append([]string{R, "static-delta", "generate", "--to=" + p.To}, c.gen...)...)
		grove(t, R, "summary", "-u")
		dst := filepath.Join(t.TempDir(), "dst")
		repotest.Ostree(t, "--repo="+dst, "init", "--mode=bare-user")
		repotest.Ostree(t, "--repo="+dst, "remote", "add", "--no-gpg-verify", "origin", srv.URL)
		if c.from {
			repotest.Ostree(t, "--repo="+dst, "pull-local", p.Repo, p.From)
			repotest.Ostree(t, "--repo="+dst, "refs", "--create=origin:test", p.From)
		}
		mu.Lock()
		fetched = nil
		mu.Unlock()
		out := repotest.Ostree(t, "--repo="+dst, "pull", "--require-static-deltas", "origin", "test")
		// (ostree counts an inline delta's objects as fetched.)
		if c.name != "inline" && !strings.Contains(out, "delta parts") {
			t.Errorf("%s: pull did not use a delta: %q", c.name, out)
		}
		// ostree's pull scans the tree when the commit's detached metadata
		// arrives, racing the part's execution, and may fetch objects the
		// part is about to write (its own deltas too); so only the
		// superblock's fetch is required here, and completeness is fsck's.
		mu.Lock()
		if !slices.ContainsFunc(fetched, func(f string) bool { return strings.HasSuffix(f, "/superblock") }) {
			t.Errorf("%s: no superblock fetched: %v", c.name, fetched)
		}
		mu.Unlock()
		repotest.Ostree(t, "--repo="+dst, "fsck")
		co := filepath.Join(t.TempDir(), "co")
		repotest.Ostree(t, "--repo="+dst, "checkout", "-U", "origin:test", co)
		repotest.SameTree(t, p.ToDir, co)
		// The next case starts from a clean set of deltas.
		for _, n := range strings.Fields(grove(t, R, "static-delta", "list")) {
			grove(t, R, "static-delta", "delete", n)
		}
	}
}

// grove pull goes through static deltas (ostree's, big-endian included,
// and grove's), picks the from→to delta when it has FROM, honours
// --disable-static-deltas, and refuses a damaged part without moving
// the ref.
func TestGrovePullsThroughDeltas(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 0)
	R := "--repo=" + p.Repo
	repotest.Ostree(t, R, "static-delta", "generate", "--empty", "--to="+p.To)
	repotest.Ostree(t, R, "static-delta", "generate", "--from="+p.From, "--to="+p.To, "--set-endianness=B")
	repotest.Ostree(t, R, "summary", "-u")
	var mu sync.Mutex
	var fetched []string
	fs := http.FileServer(http.Dir(p.Repo))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetched = append(fetched, r.URL.Path)
		mu.Unlock()
		fs.ServeHTTP(w, r)
	}))
	defer srv.Close()
	client := func(t *testing.T, withFrom bool) string {
		dst := filepath.Join(t.TempDir(), "dst")
		grove(t, "--repo="+dst, "init", "--mode=bare-user")
		grove(t, "--repo="+dst, "remote", "add", "--no-gpg-verify", "origin", srv.URL)
		if withFrom {
			repotest.Ostree(t, "--repo="+dst, "pull-local", p.Repo, p.From)
			repotest.Ostree(t, "--repo="+dst, "refs", "--create=origin:test", p.From)
		}
		mu.Lock()
		fetched = nil
		mu.Unlock()
		return dst
	}
	requested := func(pred func(string) bool) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, f := range fetched {
			if pred(f) {
				out = append(out, f)
			}
		}
		return out
	}
	objects := func(f string) bool {
		return strings.HasPrefix(f, "/objects/") && !strings.HasSuffix(f, ".commitmeta")
	}
	check := func(t *testing.T, dst string) {
		repotest.Ostree(t, "--repo="+dst, "fsck")
		co := filepath.Join(t.TempDir(), "co")
		repotest.Ostree(t, "--repo="+dst, "checkout", "-U", "origin:test", co)
		repotest.SameTree(t, p.ToDir, co)
	}

	// One client at a time: the request log is shared.
	dst := client(t, false)
	out := grove(t, "--repo="+dst, "pull", "--require-static-deltas", "origin", "test")
	if !strings.Contains(out, "1 delta parts") {
		t.Errorf("scratch: %q", out)
	}
	if o := requested(objects); len(o) != 0 {
		t.Errorf("scratch: objects fetched besides the delta: %v", o)
	}
	check(t, dst)

	dst = client(t, true)
	out = grove(t, "--repo="+dst, "pull", "--require-static-deltas", "origin", "test")
	if sb := requested(func(f string) bool { return strings.HasSuffix(f, "/superblock") }); len(sb) != 1 || !strings.Contains(sb[0], "-") {
		t.Errorf("from→to: superblocks fetched %v (%q)", sb, out)
	}
	if o := requested(objects); len(o) != 0 {
		t.Errorf("from→to: objects fetched besides the delta: %v", o)
	}
	check(t, dst)

	dst = client(t, false)
	grove(t, "--repo="+dst, "pull", "--disable-static-deltas", "origin", "test")
	if d := requested(func(f string) bool { return strings.HasPrefix(f, "/deltas/") }); len(d) != 0 {
		t.Errorf("--disable-static-deltas fetched %v", d)
	}
	check(t, dst)

	// A damaged part: the pull fails, the ref stays where it was.
	n := delta.Name{To: oid.MustParse(p.To)}
	part := filepath.Join(p.Repo, n.PartPath(0))
	b, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x10
	os.WriteFile(part, b, 0o644)
	dst = client(t, false)
	if _, errOut, err := groveErr(t, "--repo="+dst, "pull", "--require-static-deltas", "origin", "test"); err == nil || !strings.Contains(errOut, "checksum") {
		t.Errorf("damaged part: %v %q", err, errOut)
	}
	if refs := grove(t, "--repo="+dst, "refs"); strings.TrimSpace(refs) != "" {
		t.Errorf("ref moved after a failed pull: %q", refs)
	}
	repotest.Ostree(t, "--repo="+dst, "fsck")
}
