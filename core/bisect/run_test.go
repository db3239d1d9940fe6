package bisect_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/groveos/grove/core/bisect"
	"github.com/groveos/grove/core/bisect/bisecttest"
	"github.com/groveos/grove/core/oid"
)

// TestExitVerdict is git bisect run's contract.
func TestExitVerdict(t *testing.T) {
	for code, want := range map[int]bisect.Verdict{0: bisect.Old, 1: bisect.New, 124: bisect.New, 125: bisect.Skip, 126: bisect.New, 127: bisect.New} {
		if v, ok := bisect.ExitVerdict(code); !ok || v != want {
			t.Errorf("exit %d: %v %v, want %v", code, v, ok, want)
		}
	}
	for _, code := range []int{128, 130, 255, -1} {
		if _, ok := bisect.ExitVerdict(code); ok {
			t.Errorf("exit %d does not abort", code)
		}
	}
}

// TestRun drives Run with tests standing in for a command: it finds k,
// skips 125s and untestable commits, saves after every mark, aborts on
// codes outside the contract and tells a command that cannot run (127 on
// the good commit too) from a bad commit.
func TestRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, h := history(t, bisecttest.Options{N: 200, K: 200})
	start := func() *bisect.State {
		st, _, err := bisect.Start(ctx, r, bisect.Terms{}, h.Commits[199], []oid.Checksum{h.Commits[0]})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	k := 77
	code := func(c oid.Checksum) int {
		i := h.Index(c)
		switch {
		case i%9 == 4 && i != k && i != k-1:
			return 125
		case i >= k:
			return 1 + i%124
		}
		return 0
	}
	saves, skipped, untestable := 0, 0, 0
	var events []bisect.EventKind
	st, step, err := bisect.Run(ctx, r, start(), bisect.RunOptions{
		Test: func(ctx context.Context, c oid.Checksum) (int, error) {
			if h.Index(c) == 99 { // the first candidate
				return 0, &bisect.UntestableError{Commit: c, Err: errors.New("checkout failed")}
			}
			return code(c), nil
		},
		Save: func(*bisect.State) error { saves++; return nil },
		Event: func(e bisect.RunEvent) {
			events = append(events, e.Kind)
			if e.Kind == bisect.EventTested && e.Verdict == bisect.Skip {
				skipped++
			}
			if e.Kind == bisect.EventUntestable {
				untestable++
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if h.Index(step.FirstBad) != k || st.Current != step.FirstBad {
		t.Fatalf("first bad #%d, want #%d", h.Index(step.FirstBad), k)
	}
	if untestable != 1 || events[len(events)-1] != bisect.EventDone || saves == 0 {
		t.Errorf("untestable %d, skipped %d, saves %d, events %v", untestable, skipped, saves, events)
	}

	// Codes outside the contract abort, leaving the state of the last mark.
	for _, c := range []int{128, 255, -9} {
		_, _, err := bisect.Run(ctx, r, start(), bisect.RunOptions{Test: func(context.Context, oid.Checksum) (int, error) { return c, nil }})
		if !errors.Is(err, bisect.ErrAbort) || !strings.Contains(err.Error(), fmt.Sprint(c)) {
			t.Errorf("exit %d: %v", c, err)
		}
	}
	// 127 everywhere: the command cannot run.
	tested := map[int]bool{}
	_, _, err = bisect.Run(ctx, r, start(), bisect.RunOptions{Test: func(_ context.Context, c oid.Checksum) (int, error) {
		tested[h.Index(c)] = true
		return 127, nil
	}})
	if !errors.Is(err, bisect.ErrCommand) || !tested[0] {
		t.Errorf("127 on good and candidate: %v (tested %v)", err, tested)
	}
	// 127 on the candidate only: the commit is bad.
	_, step, err = bisect.Run(ctx, r, start(), bisect.RunOptions{Test: func(_ context.Context, c oid.Checksum) (int, error) {
		if h.Index(c) >= 150 {
			return 127, nil
		}
		return 0, nil
	}})
	if err != nil || h.Index(step.FirstBad) != 150 {
		t.Errorf("127 from 150 on: %v, first bad #%d", err, h.Index(step.FirstBad))
	}
	// Another error stops the run.
	boom := errors.New("sandbox broke")
	if _, _, err = bisect.Run(ctx, r, start(), bisect.RunOptions{Test: func(context.Context, oid.Checksum) (int, error) { return 0, boom }}); !errors.Is(err, boom) {
		t.Errorf("test error: %v", err)
	}
	// Without both marks there is nothing to run.
	half, _, _ := bisect.Start(ctx, r, bisect.Terms{}, h.Commits[9], nil)
	if _, _, err = bisect.Run(ctx, r, half, bisect.RunOptions{Test: func(context.Context, oid.Checksum) (int, error) { return 0, nil }}); err == nil || !strings.Contains(err.Error(), "waiting for good commit(s)") {
		t.Errorf("run with bad only: %v", err)
	}
}

// TestAgainstGit bisects the same linear history with the real git and
// with grove, answering alike, and checks that both test the same commits
// and print the same "N revisions left (roughly K steps)".
func TestAgainstGit(t *testing.T) {
	t.Parallel()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("git is required in CI for the comparison with git bisect")
		}
		t.Skip("git not installed")
	}
	ctx := context.Background()
	const n = 40
	r, h := history(t, bisecttest.Options{N: n, K: n})
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(gitBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e", "LC_ALL=C")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git("init", "-q")
	var stream strings.Builder
	for i := 0; i < n; i++ {
		msg, data := "c"+strconv.Itoa(i), strconv.Itoa(i)
		fmt.Fprintf(&stream, "commit refs/heads/master\ncommitter t <t@e> %d +0000\ndata %d\n%s\nM 644 inline f\ndata %d\n%s\n", 1700000000+i, len(msg), msg, len(data), data)
	}
	imp := exec.Command(gitBin, "fast-import", "--quiet")
	imp.Dir, imp.Stdin = dir, strings.NewReader(stream.String())
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v\n%s", err, out)
	}
	git("checkout", "-q", "master")
	cand := regexp.MustCompile(`Bisecting: (\d+) revisions? left to test after this \(roughly (\d+) steps?\)\n\[[0-9a-f]+\] c(\d+)`)
	first := regexp.MustCompile(`[0-9a-f]+ is the first bad commit`)
	for _, c := range []struct{ good, bad, k int }{{0, 39, 17}, {0, 39, 1}, {0, 39, 39}, {5, 30, 6}, {5, 30, 29}, {10, 21, 15}, {0, 3, 2}, {12, 39, 33}} {
		git("bisect", "reset")
		out := git("bisect", "start", "HEAD~"+strconv.Itoa(n-1-c.bad), "HEAD~"+strconv.Itoa(n-1-c.good))
		st, step, err := bisect.Start(ctx, r, bisect.Terms{}, h.Commits[c.bad], []oid.Checksum{h.Commits[c.good]})
		if err != nil {
			t.Fatal(err)
		}
		for {
			m := cand.FindStringSubmatch(out)
			if m == nil {
				if !first.MatchString(out) {
					t.Fatalf("git says %q", out)
				}
				if !step.Done() {
					t.Errorf("%+v: git is done, grove tests #%d", c, h.Index(step.Candidate))
				}
				if h.Index(step.FirstBad) != c.k {
					t.Errorf("%+v: grove's first bad #%d", c, h.Index(step.FirstBad))
				}
				break
			}
			gi, _ := strconv.Atoi(m[3])
			left, _ := strconv.Atoi(m[1])
			steps, _ := strconv.Atoi(m[2])
			if step.Done() || h.Index(step.Candidate) != gi || step.Left != left || step.Steps != steps {
				t.Fatalf("%+v: git tests c%d (%d left, %d steps), grove #%d (%d left, %d steps)", c, gi, left, steps, h.Index(step.Candidate), step.Left, step.Steps)
			}
			word, v := "good", bisect.Old
			if gi >= c.k {
				word, v = "bad", bisect.New
			}
			out = git("bisect", word)
			if st, step, err = st.Mark(ctx, r, v); err != nil {
				t.Fatal(err)
			}
		}
	}
}
