package bisect_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/groveos/grove/core/bisect"
	"github.com/groveos/grove/core/bisect/bisecttest"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

func history(t testing.TB, o bisecttest.Options) (*repo.Repo, *bisecttest.History) {
	t.Helper()
	r := repotest.NewRepo(t, repo.ModeBareUser)
	h, err := bisecttest.Build(context.Background(), r, o)
	if err != nil {
		t.Fatal(err)
	}
	return r, h
}

// seed returns a random seed, or $GROVE_BISECT_SEED, and logs it.
func seed(t testing.TB) uint64 {
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

// oracle answers like a test run on a History: untestable commits skip,
// commits from K on are bad.
func oracle(h *bisecttest.History, c oid.Checksum) bisect.Verdict {
	return oracleK(h, c, h.Opts.K, h.Opts.Untestable)
}

func oracleK(h *bisecttest.History, c oid.Checksum, k int, untestable []int) bisect.Verdict {
	i := h.Index(c)
	if slices.Contains(untestable, i) {
		return bisect.Skip
	}
	if i >= k {
		return bisect.New
	}
	return bisect.Old
}

// TestMidpointIsGits checks the candidate and git's "N revisions left to
// test after this (roughly K steps)" for ranges of 1 to 9 commits against
// what git 2.39 prints for the same linear ranges (recorded: see
// TestAgainstGit for the live comparison).
func TestMidpointIsGits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, h := history(t, bisecttest.Options{N: 12, K: 12})
	// n candidates (bad included) → index of the candidate above the
	// good commit, revisions left, steps.
	want := map[int][3]int{2: {1, 0, 0}, 3: {2, 0, 1}, 4: {2, 1, 1}, 5: {2, 2, 1}, 6: {3, 2, 2}, 7: {3, 3, 2}, 8: {4, 3, 2}, 9: {4, 4, 2}}
	for n, w := range want {
		bad, good := h.Commits[11], h.Commits[11-n]
		_, step, err := bisect.Start(ctx, r, bisect.Terms{}, bad, []oid.Checksum{good})
		if err != nil {
			t.Fatal(err)
		}
		got := [3]int{h.Index(step.Candidate) - (11 - n), step.Left, step.Steps}
		if got != w || step.Total != n {
			t.Errorf("%d candidates: picked %v of %d, want %v", n, got, step.Total, w)
		}
	}
	_, step, err := bisect.Start(ctx, r, bisect.Terms{}, h.Commits[11], []oid.Checksum{h.Commits[10]})
	if err != nil {
		t.Fatal(err)
	}
	if step.FirstBad != h.Commits[11] || step.LastGood() != h.Commits[10] || !step.Done() {
		t.Errorf("one candidate: first bad %s, last good %s", step.FirstBad, step.LastGood())
	}
	for all, steps := range map[int]int{1: 0, 2: 0, 3: 1, 4: 1, 5: 1, 6: 2, 1000: 9, 1024: 9, 1025: 9, 1500: 10} {
		if got := bisect.EstimateSteps(all); got != steps {
			t.Errorf("EstimateSteps(%d) = %d, want %d", all, got, steps)
		}
	}
}

// bisectWith drives a bisect to its end with answer and returns the final
// step and the number of answers that were not skips.
func bisectWith(t *testing.T, r *repo.Repo, st *bisect.State, step *bisect.Step, answer func(oid.Checksum) bisect.Verdict) (*bisect.State, *bisect.Step, int) {
	t.Helper()
	ctx := context.Background()
	tests := 0
	for !step.Done() {
		v := answer(step.Candidate)
		if v != bisect.Skip {
			tests++
		}
		var err error
		if st, step, err = st.Mark(ctx, r, v); err != nil {
			t.Fatal(err)
		}
		if tests > 100 {
			t.Fatal("bisect does not converge")
		}
	}
	return st, step, tests
}

// TestFindsTheFirstBadCommit bisects 1,000 commits for random k with
// untestable commits sprinkled in (none next to k): the first bad commit
// is found with at most ⌈log2 1000⌉ + 1 tests that were not skips.
func TestFindsTheFirstBadCommit(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(seed(t), 1))
	ctx := context.Background()
	const n = 1000
	bound := int(math.Ceil(math.Log2(n))) + 1
	r, h := history(t, bisecttest.Options{N: n, K: n})
	for range 8 {
		k := 1 + rng.IntN(n-1)
		var untestable []int
		for i := 1; i < n; i++ {
			if i < k-1 || i > k {
				if rng.IntN(20) == 0 {
					untestable = append(untestable, i)
				}
			}
		}
		st, step, err := bisect.Start(ctx, r, bisect.Terms{}, h.Commits[n-1], []oid.Checksum{h.Commits[0]})
		if err != nil {
			t.Fatal(err)
		}
		if step.Total != n-1 || step.Left != 499 || step.Steps != 9 {
			t.Errorf("first step: %d candidates, %d left, %d steps; want 999, 499, 9 as git", step.Total, step.Left, step.Steps)
		}
		st, step, tests := bisectWith(t, r, st, step, func(c oid.Checksum) bisect.Verdict { return oracleK(h, c, k, untestable) })
		if got := h.Index(step.FirstBad); got != k {
			t.Fatalf("k=%d: first bad is #%d (possible: %d)", k, got, len(step.Possible))
		}
		if h.Index(step.LastGood()) != k-1 {
			t.Errorf("k=%d: last good is #%d", k, h.Index(step.LastGood()))
		}
		if tests > bound {
			t.Errorf("k=%d: %d tests, more than %d", k, tests, bound)
		}
		if st.Current != step.FirstBad {
			t.Errorf("current is %s, want the first bad commit", st.Current)
		}
		t.Logf("k=%d: found in %d tests (%d untestable commits in the history)", k, tests, len(untestable))
	}
}

// TestOnlySkippedLeft: when every commit between the last good and the
// first bad one is skipped, the bisect ends with the set of possible
// first bad commits (as git's "The first bad commit could be any of").
func TestOnlySkippedLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, h := history(t, bisecttest.Options{N: 40, K: 20, Untestable: []int{17, 18, 19, 21}})
	st, step, err := bisect.Start(ctx, r, bisect.Terms{}, h.Commits[39], []oid.Checksum{h.Commits[0]})
	if err != nil {
		t.Fatal(err)
	}
	st, step, _ = bisectWith(t, r, st, step, func(c oid.Checksum) bisect.Verdict { return oracle(h, c) })
	var got []int
	for _, c := range step.Possible {
		got = append(got, h.Index(c))
	}
	// 16 is good, 17–19 skipped, 20 bad (21 is past it: never needed).
	if !slices.Equal(got, []int{17, 18, 19, 20}) || !step.FirstBad.IsZero() || !step.Done() {
		t.Fatalf("possible first bad commits %v (first bad %s), want [17 18 19 20]", got, step.FirstBad)
	}
	if h.Index(step.LastGood()) != 16 {
		t.Errorf("last good #%d, want 16", h.Index(step.LastGood()))
	}
	log := strings.Join(st.Log, "\n")
	if !strings.Contains(log, "# only skipped commits left to test") || strings.Count(log, "# possible first bad commit: [") != 4 {
		t.Errorf("log does not say so:\n%s", log)
	}
}

// TestSkipTakesNearest: a skipped midpoint gives way to the nearest
// untested commit.
func TestSkipTakesNearest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, h := history(t, bisecttest.Options{N: 101, K: 101})
	st, step, err := bisect.Start(ctx, r, bisect.Terms{}, h.Commits[100], []oid.Checksum{h.Commits[0]})
	if err != nil {
		t.Fatal(err)
	}
	mid := h.Index(step.Candidate)
	if mid != 50 {
		t.Fatalf("midpoint #%d, want 50", mid)
	}
	for _, want := range []int{49, 51, 48, 52} {
		if st, step, err = st.Mark(ctx, r, bisect.Skip); err != nil {
			t.Fatal(err)
		}
		if got := h.Index(step.Candidate); got != want {
			t.Fatalf("after skipping, candidate #%d, want #%d", got, want)
		}
	}
}

// TestBadInput: good not an ancestor of bad (newer, or on another
// history), a commit marked both ways, bad given twice, a mark with
// nothing under test, a commit not in the repository — each an error that
// leaves the state as it was.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, h := history(t, bisecttest.Options{N: 10, K: 5})
	// another history in the same repository
	other, err := bisecttest.Build(ctx, r, bisecttest.Options{N: 3, K: 3, Files: map[string][]byte{"other": []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = bisect.Start(ctx, r, bisect.Terms{}, h.Commits[3], []oid.Checksum{h.Commits[6]})
	var na *bisect.NotAncestorError
	if !errors.As(err, &na) || na.Good != h.Commits[6] || !strings.Contains(err.Error(), "not an ancestor") {
		t.Errorf("good newer than bad: %v", err)
	}
	if _, _, err = bisect.Start(ctx, r, bisect.Terms{}, h.Commits[9], []oid.Checksum{other.Commits[2]}); !errors.Is(err, bisect.ErrNotAncestor) {
		t.Errorf("good on another history: %v", err)
	}
	var missing oid.Checksum
	missing[0] = 1
	if _, _, err = bisect.Start(ctx, r, bisect.Terms{}, missing, nil); !errors.Is(err, bisect.ErrMissing) || !strings.Contains(err.Error(), missing.String()) {
		t.Errorf("bad commit not in the repository: %v", err)
	}

	st, _, err := bisect.Start(ctx, r, bisect.Terms{}, oid.Checksum{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Mark(ctx, r, bisect.New); !errors.Is(err, bisect.ErrNoCandidate) {
		t.Errorf("bad with nothing under test: %v", err)
	}
	st, _, err = st.Mark(ctx, r, bisect.New, h.Commits[9])
	if err != nil {
		t.Fatal(err)
	}
	st, step, err := st.Mark(ctx, r, bisect.Old, h.Commits[3])
	if err != nil {
		t.Fatal(err)
	}
	before, _ := st.Marshal()
	checks := []struct {
		name string
		do   func() error
		is   error
	}{
		{"good newer than bad", func() error { _, _, err := st.Mark(ctx, r, bisect.New, h.Commits[2]); return err }, bisect.ErrNotAncestor},
		{"good on another history", func() error { _, _, err := st.Mark(ctx, r, bisect.Old, other.Commits[1]); return err }, bisect.ErrNotAncestor},
		{"bad marked good", func() error { _, _, err := st.Mark(ctx, r, bisect.Old, h.Commits[9]); return err }, bisect.ErrMark},
		{"good marked bad", func() error { _, _, err := st.Mark(ctx, r, bisect.New, h.Commits[3]); return err }, bisect.ErrMark},
		{"two bad commits", func() error { _, _, err := st.Mark(ctx, r, bisect.New, h.Commits[8], h.Commits[7]); return err }, bisect.ErrMark},
		{"missing commit", func() error { _, _, err := st.Mark(ctx, r, bisect.Old, missing); return err }, bisect.ErrMissing},
	}
	for _, c := range checks {
		if err := c.do(); !errors.Is(err, c.is) {
			t.Errorf("%s: %v, want %v", c.name, err, c.is)
		}
		if after, _ := st.Marshal(); string(after) != string(before) {
			t.Errorf("%s changed the state", c.name)
		}
	}
	if step.Candidate.IsZero() {
		t.Fatal("no candidate")
	}
}

// TestCustomTerms: fast/slow instead of good/bad, in marks, the log and
// replay; the fixed synonyms old/new still work; unusable terms are
// refused as git refuses them.
func TestCustomTerms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, h := history(t, bisecttest.Options{N: 30, K: 11})
	terms := bisect.Terms{Old: "fast", New: "slow"}
	st, step, err := bisect.Start(ctx, r, terms, h.Commits[29], []oid.Checksum{h.Commits[0]})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := terms.Verdict("good"); ok {
		t.Error("good is a verdict in a fast/slow bisect")
	}
	for !step.Done() {
		word := "fast"
		if h.Index(step.Candidate) >= 11 {
			word = "slow"
		}
		v, ok := st.Terms.Verdict(word)
		if !ok {
			t.Fatalf("%s is not a verdict", word)
		}
		if st, step, err = st.Mark(ctx, r, v); err != nil {
			t.Fatal(err)
		}
	}
	if h.Index(step.FirstBad) != 11 {
		t.Fatalf("first slow commit #%d", h.Index(step.FirstBad))
	}
	log := strings.Join(st.Log, "\n")
	for _, want := range []string{"grove bisect start --term-old=fast --term-new=slow " + h.Commits[29].String(), "grove bisect slow ", "grove bisect fast ", "# first slow commit: [" + h.Commits[11].String() + "] build 11"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if v, ok := terms.Verdict("old"); !ok || v != bisect.Old {
		t.Error("old is not a synonym of the old term")
	}
	for _, bad := range []bisect.Terms{{"good", "good"}, {"bad", "x"}, {"x", "good"}, {"start", "x"}, {"x", "run"}, {"", "x"}, {"a b", "c"}, {"-x", "y"}} {
		if err := bad.Validate(); !errors.Is(err, bisect.ErrTerms) {
			t.Errorf("terms %v accepted", bad)
		}
	}
}

func resolver(r *repo.Repo) bisect.Resolver {
	return func(ctx context.Context, rev string) (oid.Checksum, error) { return r.ResolveRev(ctx, rev) }
}

// TestReplay: replaying a bisect's log rebuilds the same state; bad logs
// fail naming the line.
func TestReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, h := history(t, bisecttest.Options{N: 64, K: 23, Untestable: []int{31, 15}})
	st, _, err := bisect.Start(ctx, r, bisect.Terms{}, oid.Checksum{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var step *bisect.Step
	if st, _, err = st.Mark(ctx, r, bisect.New, h.Commits[63]); err != nil {
		t.Fatal(err)
	}
	if st, step, err = st.Mark(ctx, r, bisect.Old, h.Commits[1], h.Commits[0]); err != nil {
		t.Fatal(err)
	}
	st, _, _ = bisectWith(t, r, st, step, func(c oid.Checksum) bisect.Verdict { return oracle(h, c) })
	text := strings.Join(st.Log, "\n") + "\n"
	got, gstep, err := bisect.Replay(ctx, r, "log", strings.NewReader(text), resolver(r))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := st.Marshal()
	b, _ := got.Marshal()
	if string(a) != string(b) {
		t.Errorf("replayed state differs:\n%s\nwant\n%s", b, a)
	}
	if h.Index(gstep.FirstBad) != 23 {
		t.Errorf("replay ends at #%d", h.Index(gstep.FirstBad))
	}
	// A hand-written log with refs and quoting.
	if err := r.SetRef(ctx, "", "main", h.Commits[63]); err != nil {
		t.Fatal(err)
	}
	hand := "# my notes\ngrove bisect start 'main' " + h.Commits[10].String() + "\n\ngrove bisect bad \"" + h.Commits[40].String() + "\"\n"
	got, gstep, err = bisect.Replay(ctx, r, "hand", strings.NewReader(hand), resolver(r))
	if err != nil {
		t.Fatal(err)
	}
	if got.Bad != h.Commits[40] || !slices.Equal(got.Good, []oid.Checksum{h.Commits[10]}) || gstep.Total != 30 {
		t.Errorf("hand-written log: bad #%d, %d candidates", h.Index(got.Bad), gstep.Total)
	}
	for name, c := range map[string]struct{ log, want string }{
		"unknown": {"grove bisect start\ngrove bisect frob abc\n", "hand:2: unknown bisect command \"frob\""},
		"early":   {"grove bisect good " + h.Commits[1].String() + "\n", "hand:1: \"grove bisect good\" before"},
		"foreign": {"git bisect start\n", "hand:1: not a \"grove bisect\" command"},
		"quote":   {"grove bisect start 'abc\n", "hand:1: unterminated quote"},
		"norev":   {"grove bisect start nosuchref\n", "hand:1: Refspec 'nosuchref' not found"},
		"ancest":  {"grove bisect start " + h.Commits[2].String() + " " + h.Commits[5].String() + "\n", "hand:1: bisect: good commit"},
		"empty":   {"# nothing\n", "no \"grove bisect start\" line"},
	} {
		_, _, err := bisect.Replay(ctx, r, "hand", strings.NewReader(c.log), resolver(r))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

// TestParseStartArgs reads git's start options.
func TestParseStartArgs(t *testing.T) {
	o, revs, err := bisect.ParseStartArgs([]string{"--term-old", "fast", "--term-bad=slow", "--remote=origin", "--", "a", "b"})
	if err != nil || o.Terms != (bisect.Terms{Old: "fast", New: "slow"}) || o.Remote != "origin" || !slices.Equal(revs, []string{"a", "b"}) {
		t.Errorf("got %+v %v %v", o, revs, err)
	}
	for _, bad := range [][]string{{"--term-old"}, {"--frob"}, {"--term-new=good"}} {
		if _, _, err := bisect.ParseStartArgs(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
