package main

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/groveos/grove/core/bisect/bisecttest"
	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// bisectRepo builds a history (with the checker in every tree) in a new
// bare-user repository and returns its path.
func bisectRepo(t *testing.T, o bisecttest.Options) (string, *bisecttest.History) {
	t.Helper()
	r := repotest.NewRepo(t, repo.ModeBareUser)
	if o.Files == nil {
		o.Files = map[string][]byte{}
	}
	o.Files[bisecttest.CheckerPath] = bisecttest.Checker(t)
	o.Files["tmp/.keep"] = nil
	if o.Ref == "" {
		o.Ref = "os/stable"
	}
	h, err := bisecttest.Build(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	return r.Path(), h
}

// bisectSeed is a random seed, or $GROVE_BISECT_SEED, logged for replay.
func bisectSeed(t *testing.T) uint64 {
	t.Helper()
	s := rand.Uint64()
	if v := os.Getenv("GROVE_BISECT_SEED"); v != "" {
		var err error
		if s, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("GROVE_BISECT_SEED: %v", err)
		}
	}
	t.Logf("seed %d (replay with GROVE_BISECT_SEED=%d)", s, s)
	return s
}

// sprinkle picks untestable commits, about one in 15, none at k-1 or k.
func sprinkle(rng *rand.Rand, n, k int) []int {
	var out []int
	for i := 1; i < n-1; i++ {
		if (i < k-1 || i > k) && rng.IntN(15) == 0 {
			out = append(out, i)
		}
	}
	return out
}

var (
	testedRe   = regexp.MustCompile(`(?m)^([0-9a-f]{64}) is (good|bad|skip) \(exit (\d+)\)$`)
	firstBadRe = regexp.MustCompile(`(?m)^([0-9a-f]{64}) is the first bad commit$`)
	lastGoodRe = regexp.MustCompile(`(?m)^Last good commit: \[([0-9a-f]{64})\]`)
	candRe     = regexp.MustCompile(`(?m)^\[([0-9a-f]{64})\]`)
)

// TestBisectRunFindsK is the proof of bisect run: 1,000 commits, the
// behaviour breaking at a random k, untestable commits (exit 125)
// sprinkled in; the real binary runs the checker inside each candidate
// and names commit k as the first bad one and k-1 as the last good one,
// with at most ⌈log2 1000⌉ + 1 tests that were not skips.
func TestBisectRunFindsK(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(bisectSeed(t), 2))
	const n = 1000
	bound := int(math.Ceil(math.Log2(n))) + 1
	for range 3 {
		k := 1 + rng.IntN(n-1)
		untestable := sprinkle(rng, n, k)
		path, h := bisectRepo(t, bisecttest.Options{N: n, K: k, Untestable: untestable})
		grove(t, "--repo="+path, "bisect", "start", "os/stable", h.Commits[0].String())
		out := grove(t, "--repo="+path, "bisect", "run", "bisect-check")
		m := firstBadRe.FindStringSubmatch(out)
		if m == nil || m[1] != h.Commits[k].String() {
			t.Fatalf("k=%d: first bad %v, want %s\n%s", k, m, h.Commits[k], out)
		}
		if m := lastGoodRe.FindStringSubmatch(out); m == nil || m[1] != h.Commits[k-1].String() {
			t.Errorf("k=%d: last good %v, want %s", k, m, h.Commits[k-1])
		}
		tests, skips := 0, 0
		for _, m := range testedRe.FindAllStringSubmatch(out, -1) {
			i := h.Index(oid.MustParse(m[1]))
			want := "good"
			switch {
			case slicesContains(untestable, i):
				want = "skip"
				skips++
			case i >= k:
				want = "bad"
			}
			if m[2] != want {
				t.Errorf("commit %d marked %s, want %s", i, m[2], want)
			}
			if m[2] != "skip" {
				tests++
			}
		}
		if tests > bound {
			t.Errorf("k=%d: %d tests, more than %d", k, tests, bound)
		}
		for _, want := range []string{"M    /etc/behaviour (3 bytes -> 7 bytes)", "M    /etc/build", "Version: " + bisecttest.Version(k), "    " + bisecttest.Subject(k)} {
			if !strings.Contains(out, want) {
				t.Errorf("report lacks %q", want)
			}
		}
		if _, err := exec.LookPath("bwrap"); err == nil && !strings.Contains(out, "sandbox bwrap") {
			t.Errorf("bwrap is installed but not used:\n%s", out[:min(len(out), 300)])
		}
		t.Logf("k=%d: found in %d tests, %d skips (%d untestable commits in the history)", k, tests, skips, len(untestable))
		// The log says the same, and reset cleans up.
		log := grove(t, "--repo="+path, "bisect", "log")
		if !strings.Contains(log, "# first bad commit: ["+h.Commits[k].String()+"] "+bisecttest.Subject(k)) {
			t.Errorf("log does not end with the culprit:\n%s", log)
		}
		grove(t, "--repo="+path, "bisect", "reset")
		if _, err := os.Stat(filepath.Join(path, "state", "bisect")); !os.IsNotExist(err) {
			t.Errorf("reset left state/bisect: %v", err)
		}
	}
}

func slicesContains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestBisectManualAcrossRestarts drives a bisect by hand, one grove
// process per step, with custom terms, and reaches the same commit as
// bisect run; the log replays to the same end.
func TestBisectManualAcrossRestarts(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(bisectSeed(t), 3))
	const n = 300
	k := 1 + rng.IntN(n-1)
	untestable := sprinkle(rng, n, k)
	path, h := bisectRepo(t, bisecttest.Options{N: n, K: k, Untestable: untestable})
	repoFlag := "--repo=" + path
	out := grove(t, repoFlag, "bisect", "start", "--term-old=fast", "--term-new=slow")
	if !strings.Contains(out, "status: waiting for both fast and slow commits") {
		t.Errorf("start: %q", out)
	}
	out = grove(t, repoFlag, "bisect", "slow", "os/stable")
	if !strings.Contains(out, "status: waiting for fast commit(s), slow commit known") {
		t.Errorf("slow: %q", out)
	}
	if _, errOut, err := groveErr(t, repoFlag, "bisect", "good", h.Commits[0].String()); err == nil || !strings.Contains(errOut, "you're currently in a slow/fast bisect") {
		t.Errorf("good in a fast/slow bisect: %v %s", err, errOut)
	}
	out = grove(t, repoFlag, "bisect", "fast", h.Commits[0].String())
	steps := 0
	for ; !strings.Contains(out, "is the first slow commit"); steps++ {
		if steps > 40 {
			t.Fatalf("no end after %d steps:\n%s", steps, out)
		}
		m := candRe.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no candidate in %q", out)
		}
		i := h.Index(oid.MustParse(m[1]))
		word := "fast"
		switch {
		case slicesContains(untestable, i):
			word = "skip"
		case i >= k:
			word = "slow"
		}
		out = grove(t, repoFlag, "bisect", word)
	}
	if m := regexp.MustCompile(`(?m)^([0-9a-f]{64}) is the first slow commit$`).FindStringSubmatch(out); m == nil || m[1] != h.Commits[k].String() {
		t.Fatalf("first slow commit %v, want #%d %s", m, k, h.Commits[k])
	}
	if !strings.Contains(out, "Last fast commit: ["+h.Commits[k-1].String()+"]") {
		t.Errorf("last fast commit missing:\n%s", out)
	}
	if got := grove(t, repoFlag, "bisect", "terms"); got != "Your current terms are fast for the old state\nand slow for the new state.\n" {
		t.Errorf("terms: %q", got)
	}
	if got := grove(t, repoFlag, "bisect", "terms", "--term-new"); got != "slow\n" {
		t.Errorf("terms --term-new: %q", got)
	}
	// Replay the log after a reset: same end.
	logFile := filepath.Join(t.TempDir(), "bisect.log")
	os.WriteFile(logFile, []byte(grove(t, repoFlag, "bisect", "log")), 0o644)
	grove(t, repoFlag, "bisect", "reset")
	out = grove(t, repoFlag, "bisect", "replay", logFile)
	if !strings.Contains(out, h.Commits[k].String()+" is the first slow commit") {
		t.Errorf("replay ends elsewhere:\n%s", out)
	}
	// bisect run on the same history agrees.
	grove(t, repoFlag, "bisect", "reset")
	grove(t, repoFlag, "bisect", "start", "os/stable", h.Commits[0].String())
	out = grove(t, repoFlag, "bisect", "run", "bisect-check")
	if m := firstBadRe.FindStringSubmatch(out); m == nil || m[1] != h.Commits[k].String() {
		t.Errorf("bisect run: %v", m)
	}
	t.Logf("k=%d found by hand in %d steps", k, steps)
}

// TestBisectBadInput: each bad input is a clear error that leaves the
// state as it was.
func TestBisectBadInput(t *testing.T) {
	t.Parallel()
	path, h := bisectRepo(t, bisecttest.Options{N: 40, K: 25, Untestable: []int{12}})
	repoFlag := "--repo=" + path
	statePath := filepath.Join(path, "state", "bisect", "state.json")
	fails := func(want string, args ...string) {
		t.Helper()
		before, _ := os.ReadFile(statePath)
		_, errOut, err := groveErr(t, append([]string{repoFlag}, args...)...)
		if err == nil || !strings.Contains(errOut, want) {
			t.Errorf("grove %v: %v, stderr %q, want %q", args, err, errOut, want)
		}
		if after, _ := os.ReadFile(statePath); string(after) != string(before) {
			t.Errorf("grove %v changed the state", args)
		}
	}
	fails("no bisect in progress", "bisect", "good")
	fails("no bisect in progress", "bisect", "bad", "os/stable")
	fails("no bisect in progress", "bisect", "log")
	fails("no bisect in progress", "bisect", "run", "bisect-check")
	fails("Refspec 'nosuchref' not found", "bisect", "start", "nosuchref")
	fails("is not in the repository", "bisect", "start", strings.Repeat("ab", 32))
	fails("is not an ancestor of the bad commit", "bisect", "start", h.Commits[10].String(), h.Commits[20].String())
	grove(t, repoFlag, "bisect", "start", h.Commits[30].String(), h.Commits[0].String())
	fails("is not an ancestor of the bad commit", "bisect", "good", h.Commits[20].String(), "os/stable^")
	fails("is already marked bad", "bisect", "good", h.Commits[30].String())
	fails("Refspec 'nosuchref' not found", "bisect", "skip", "nosuchref")
	fails("takes only one commit", "bisect", "bad", h.Commits[30].String(), h.Commits[31].String())
	fails("unknown command \"frob\"", "bisect", "frob")
	fails("command not found", "bisect", "run", "--sandbox=none", "no-such-command-anywhere")
	fails("unknown sandbox", "bisect", "run", "--sandbox=jail", "bisect-check")
	if os.Geteuid() == 0 || hasBwrap() {
		// In a sandbox the tree decides: 127 on the candidate and on the
		// good commit means the command cannot run.
		fails("command cannot be run: it exits 127 on the good commit", "bisect", "run", "no-such-command-anywhere")
	}
	// A nonsense state file: every verb says which file and how out.
	good, _ := os.ReadFile(statePath)
	nonsense := strings.Replace(string(good), `"version": 1`, `"version": "one"`, 1)
	os.WriteFile(statePath, []byte(nonsense), 0o644)
	for _, args := range [][]string{{"bisect", "good"}, {"bisect", "log"}, {"bisect", "run", "bisect-check"}, {"bisect", "visualize"}} {
		fails(statePath, args...)
		if b, _ := os.ReadFile(statePath); string(b) != nonsense {
			t.Fatalf("%v rewrote the nonsense state", args)
		}
	}
	grove(t, repoFlag, "bisect", "reset")
	if out := grove(t, repoFlag, "bisect", "reset"); out != "We are not bisecting.\n" {
		t.Errorf("second reset: %q", out)
	}
}

func hasBwrap() bool { _, err := exec.LookPath("bwrap"); return err == nil }

// TestBisectRunUntestableCandidate: a candidate whose tree cannot be
// checked out (an object is gone) is skipped and reported, and the run
// still finds the first bad commit.
func TestBisectRunUntestableCandidate(t *testing.T) {
	t.Parallel()
	path, h := bisectRepo(t, bisecttest.Options{N: 64, K: 40})
	ctx := context.Background()
	r, err := repo.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// Delete the object of the first candidate's etc/build.
	out := grove(t, "--repo="+path, "bisect", "start", "os/stable", h.Commits[0].String())
	m := candRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no candidate: %s", out)
	}
	broken := h.Index(oid.MustParse(m[1]))
	if broken == 39 || broken == 40 {
		t.Fatalf("first candidate #%d is next to the culprit", broken)
	}
	deleteFileObject(t, r, h.Commits[broken], bisecttest.BuildPath)
	out = grove(t, "--repo="+path, "bisect", "run", "bisect-check")
	if !strings.Contains(out, h.Commits[broken].String()+" cannot be tested, skipped: ") {
		t.Errorf("the broken candidate is not reported:\n%s", out)
	}
	if m := firstBadRe.FindStringSubmatch(out); m == nil || m[1] != h.Commits[40].String() {
		t.Errorf("first bad %v, want #40", m)
	}
	if log := grove(t, "--repo="+path, "bisect", "log"); !strings.Contains(log, "grove bisect skip "+h.Commits[broken].String()) {
		t.Errorf("the skip is not in the log:\n%s", log)
	}
}

// TestBisectVisualize lists the range with its marks.
func TestBisectVisualize(t *testing.T) {
	t.Parallel()
	path, h := bisectRepo(t, bisecttest.Options{N: 10, K: 5})
	repoFlag := "--repo=" + path
	grove(t, repoFlag, "bisect", "start", h.Commits[8].String(), h.Commits[1].String())
	grove(t, repoFlag, "bisect", "skip", h.Commits[3].String()+".."+h.Commits[4].String())
	out := grove(t, repoFlag, "bisect", "visualize")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[0], "  bad    ["+h.Commits[8].String()+"] 1.0.8 build 8") ||
		!strings.HasPrefix(lines[4], "  skip   ["+h.Commits[4].String()) ||
		!strings.HasPrefix(lines[7], "  good   ["+h.Commits[1].String()) {
		t.Errorf("visualize:\n%s", out)
	}
	if strings.Count(out, "\n> ") != 1 {
		t.Errorf("no single current candidate:\n%s", out)
	}
}

// deleteFileObject deletes the content object of path in commit.
func deleteFileObject(t *testing.T, r *repo.Repo, commit oid.Checksum, path string) {
	t.Helper()
	ctx := context.Background()
	c, err := r.LoadCommit(ctx, commit)
	if err != nil {
		t.Fatal(err)
	}
	node, err := inspect.ResolvePath(ctx, r, c.RootTree, c.RootMeta, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteObject(ctx, oid.ObjectName{Checksum: node.File, Type: oid.File}); err != nil {
		t.Fatal(err)
	}
}

// TestBisectReportPackages: the end of a bisect names the package
// changes at the culprit when the trees carry a dpkg database.
func TestBisectReportPackages(t *testing.T) {
	t.Parallel()
	path, h := bisectRepo(t, bisecttest.Options{N: 12, K: 7, Packages: func(i int) map[string]string {
		m := map[string]string{"libc6:amd64": "2.36-9", "libc6:i386": "2.36-9", "bash": "5.2.15-2", "old": "1"}
		if i >= 7 {
			m["libc6:amd64"], m["libc6:i386"], m["new"] = "2.36-9+deb12u1", "2.36-9+deb12u1", "0.1"
			m["bash"] = "5.2.15-1"
			delete(m, "old")
		}
		return m
	}})
	out := grove(t, "--repo="+path, "bisect", "start", h.Commits[7].String(), h.Commits[6].String())
	want := "\nPackage changes (/var/lib/dpkg/status):\nUpgraded:\n  libc6:amd64 2.36-9 -> 2.36-9+deb12u1\n  libc6:i386 2.36-9 -> 2.36-9+deb12u1\nDowngraded:\n  bash 5.2.15-2 -> 5.2.15-1\nRemoved:\n  old 1\nAdded:\n  new 0.1\n"
	if !strings.HasPrefix(out, h.Commits[7].String()+" is the first bad commit\n") || !strings.HasSuffix(out, want) {
		t.Errorf("report:\n%s\nwant it to end with\n%s", out, want)
	}
	if !strings.Contains(out, "M    /var/lib/dpkg/status (") {
		t.Errorf("the database's change is not listed:\n%s", out)
	}
}

// TestBisectFetchesFromRemote: a client holding only the tip of a branch
// bisects its history over HTTP (grove serve): the history arrives as
// commit objects only, and trees only for the commits tested; the result
// is the same, and the repository stays one ostree fsck accepts.
func TestBisectFetchesFromRemote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	up, err := repo.Create(ctx, filepath.Join(dir, "upstream"), repo.CreateOptions{Mode: repo.ModeArchive})
	if err != nil {
		t.Fatal(err)
	}
	const n, k = 200, 123
	h, err := bisecttest.Build(ctx, up, bisecttest.Options{N: n, K: k, Ref: "os/stable", Untestable: []int{50},
		Files: map[string][]byte{bisecttest.CheckerPath: bisecttest.Checker(t), "tmp/.keep": nil}})
	if err != nil {
		t.Fatal(err)
	}
	grove(t, "--repo="+up.Path(), "summary", "-u")
	url := groveServe(t, up.Path())
	client := filepath.Join(dir, "client")
	grove(t, "--repo="+client, "init", "--mode=bare-user")
	grove(t, "--repo="+client, "remote", "add", "--no-gpg-verify", "origin", url)
	grove(t, "--repo="+client, "pull", "--depth=0", "origin", "os/stable")
	cr := "--repo=" + client
	if _, errOut, err := groveErr(t, cr, "bisect", "start", "origin:os/stable", h.Commits[0].String()); err == nil || !strings.Contains(errOut, "is not in the repository") {
		t.Errorf("without --remote: %v %s", err, errOut)
	}
	out := grove(t, cr, "bisect", "start", "--remote=origin", "origin:os/stable", h.Commits[0].String())
	m := candRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("start: %s", out)
	}
	// The first candidate cannot be fetched: upstream lost an object of
	// its tree. It is skipped and reported.
	first := h.Index(oid.MustParse(m[1]))
	deleteFileObject(t, up, h.Commits[first], bisecttest.BuildPath)
	out = grove(t, cr, "bisect", "run", "bisect-check")
	if !strings.Contains(out, h.Commits[first].String()+" cannot be tested, skipped: fetching "+h.Commits[first].String()+" from origin: ") {
		t.Errorf("the unfetchable candidate is not reported:\n%s", out)
	}
	if m := firstBadRe.FindStringSubmatch(out); m == nil || m[1] != h.Commits[k].String() {
		t.Fatalf("first bad %v, want #%d:\n%s", m, k, out)
	}
	r, err := repo.Open(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	tested := map[int]bool{}
	for _, m := range testedRe.FindAllStringSubmatch(out, -1) {
		tested[h.Index(oid.MustParse(m[1]))] = true
	}
	full := 0
	for i, c := range h.Commits {
		has, err := r.HasObject(ctx, oid.ObjectName{Checksum: c, Type: oid.Commit})
		if err != nil || !has {
			t.Fatalf("commit #%d not fetched: %v", i, err)
		}
		if !r.IsPartial(c) {
			full++
			if !tested[i] && i != n-1 && i != k-1 && i != k && i != 0 && i != first {
				t.Errorf("commit #%d has its tree but was not tested", i)
			}
		}
	}
	if full > len(tested)+4 {
		t.Errorf("%d full commits for %d tested", full, len(tested))
	}
	t.Logf("%d of %d commits fetched whole, %d tested", full, n, len(tested))
	if repotest.NeedOstree(t) != "" {
		if out, err := repotest.OstreeErr(t, "fsck", "--repo="+client); err != nil {
			t.Errorf("ostree fsck: %v\n%s", err, out)
		}
	}
	// Replay works through the remote too.
	logFile := filepath.Join(dir, "log")
	os.WriteFile(logFile, []byte(grove(t, cr, "bisect", "log")), 0o644)
	grove(t, cr, "bisect", "reset")
	if out := grove(t, cr, "bisect", "replay", logFile); !strings.Contains(out, h.Commits[k].String()+" is the first bad commit") {
		t.Errorf("replay:\n%s", out)
	}
}
