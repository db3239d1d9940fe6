package main

// Issue 3 (the build-system recipe) measurements that the row model cannot
// express: a grove-vs-grove ratio (re-committing an unchanged union
// checkout with and without --link-checkout-speedup) and CPU utilisation
// ((user+sys)/wall from rusage) of pull-local. recipeSection runs them and
// returns a markdown section for the report; main calls it after the rows
// when -rows matches "recipe".

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// recipeSample is one timed command: wall time and the CPU time the
// process (all its threads) used, from wait4's rusage.
type recipeSample struct {
	Wall, CPU time.Duration
}

func recipeExec(bin, dir string, args ...string) (recipeSample, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = cmdEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	s := recipeSample{Wall: time.Since(start)}
	if cmd.ProcessState != nil {
		s.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return s, fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), strings.Join(args, " "), err, firstLine(stderr.String()))
	}
	return s, nil
}

// recipeCase is one side of a comparison: a binary and its arguments, run
// in a fresh scratch dir prepared by setup.
type recipeCase struct {
	Name  string
	Bin   string
	Args  []string
	Setup func(dir string) error
	Ref   string // ref whose checksum is reported, in dir/repo
}

type recipeStats struct {
	Samples []recipeSample
	Commit  string
	Err     error
}

func (s recipeStats) median() time.Duration {
	ds := make([]time.Duration, len(s.Samples))
	for i, x := range s.Samples {
		ds[i] = x.Wall
	}
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0
	}
	return ds[len(ds)/2]
}

// util is total CPU over total wall: above 1.5 on two cores means both
// were busy most of the time.
func (s recipeStats) util() float64 {
	var w, c time.Duration
	for _, x := range s.Samples {
		w += x.Wall
		c += x.CPU
	}
	if w == 0 {
		return 0
	}
	return float64(c) / float64(w)
}

// recipeMeasure runs one untimed warm-up of every case, then runs timed
// runs of each, rotating the order every round.
func recipeMeasure(scratch string, runs int, cases []recipeCase) []recipeStats {
	out := make([]recipeStats, len(cases))
	n := 0
	once := func(i int) (recipeSample, string, error) {
		c := cases[i]
		n++
		dir := filepath.Join(scratch, fmt.Sprintf("%d-%s", n, slug(c.Name)))
		defer func() { _ = removeAll(dir) }()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return recipeSample{}, "", err
		}
		if c.Setup != nil {
			if err := c.Setup(dir); err != nil {
				return recipeSample{}, "", fmt.Errorf("setup: %w", err)
			}
		}
		syscall.Sync()
		s, err := recipeExec(c.Bin, dir, c.Args...)
		var commit string
		if err == nil && c.Ref != "" {
			b, rerr := os.ReadFile(filepath.Join(dir, "repo", "refs", "heads", c.Ref))
			if rerr != nil {
				err = rerr
			}
			commit = strings.TrimSpace(string(b))
		}
		return s, commit, err
	}
	for i := range cases {
		_, commit, err := once(i)
		out[i].Commit, out[i].Err = commit, err
	}
	for r := range runs {
		for k := range cases {
			i := (k + r) % len(cases)
			if out[i].Err != nil {
				continue
			}
			s, _, err := once(i)
			if err != nil {
				out[i].Err = err
				continue
			}
			out[i].Samples = append(out[i].Samples, s)
		}
	}
	return out
}

// recipeUnion makes the 10k-file union checkout, hardlinked into the
// bare-user fixture: base, plus base's /usr again at opt/usr-copy.
func recipeUnion(e *env) (string, int, error) {
	co := filepath.Join(e.Fx, "recipe-union")
	if _, err := os.Stat(co); err != nil {
		if err := run(e.Ostree, "--repo="+e.bu(), "checkout", "-U", "--union", "base", co); err != nil {
			return "", 0, err
		}
		if err := run(e.Ostree, "--repo="+e.bu(), "checkout", "-U", "--union", "--subpath=/usr", "base", filepath.Join(co, "opt/usr-copy")); err != nil {
			return "", 0, err
		}
	}
	st, err := statTree(co)
	if err != nil {
		return "", 0, err
	}
	return co, st.Files + st.Symlinks, nil
}

// recipeSection measures the issue 3 numbers and renders them.
func recipeSection(o *options, e *env) string {
	var b strings.Builder
	b.WriteString("\n## Build-system recipe (issue 3)\n\n")
	fail := func(err error) string {
		fmt.Fprintf(&b, "not measured: %v\n", err)
		return b.String()
	}
	if err := e.need("bare-user"); err != nil {
		return fail(err)
	}
	scratch := filepath.Join(filepath.Dir(e.Fx), "runs", "recipe")
	defer func() { _ = removeAll(scratch) }()

	co, nfiles, err := recipeUnion(e)
	if err != nil {
		return fail(err)
	}
	linkRepo := func(dir string) error { return linkCopyRepo(e.bu(), filepath.Join(dir, "repo")) }
	commitArgs := func(speedup bool) []string {
		a := []string{"--repo=repo", "commit", "-b", "union"}
		if speedup {
			a = append(a, "--link-checkout-speedup")
		}
		return append(append(a, commitFlags()...), co)
	}
	cases := []recipeCase{
		{Name: "grove speedup", Bin: o.grove, Args: commitArgs(true), Setup: linkRepo, Ref: "union"},
		{Name: "grove plain", Bin: o.grove, Args: commitArgs(false), Setup: linkRepo, Ref: "union"},
		{Name: "ostree speedup", Bin: o.ostree, Args: commitArgs(true), Setup: linkRepo, Ref: "union"},
		{Name: "ostree plain", Bin: o.ostree, Args: commitArgs(false), Setup: linkRepo, Ref: "union"},
	}
	logf("recipe: re-commit of a %d-entry union checkout, with and without --link-checkout-speedup", nfiles)
	st := recipeMeasure(scratch, o.runs, cases)
	fmt.Fprintf(&b, "### Re-commit of an unchanged %d-entry union checkout (grove vs grove; target ≤ 0.10)\n\n", nfiles)
	b.WriteString("Union checkout: `checkout -U --union base` plus `--subpath=/usr base opt/usr-copy`, hardlinked into a\n")
	b.WriteString("link-copy of the bare-user fixture; timed: `--repo=repo commit [--link-checkout-speedup] -b union … CO`.\n\n")
	b.WriteString("| command | grove median | ostree median | CPU/wall grove | CPU/wall ostree |\n|---|---:|---:|---:|---:|\n")
	for i, label := range []string{"with --link-checkout-speedup", "without"} {
		g, ot := st[i], st[i+2]
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %.2f |\n", label, recipeDur(g), recipeDur(ot), g.util(), ot.util())
	}
	if r, ok := recipeRatio(st[0], st[1]); ok {
		fmt.Fprintf(&b, "\n**grove with / grove without: %.3f** (target ≤ 0.10) %s\n", r, recipeMark(r <= 0.10))
	}
	if r, ok := recipeRatio(st[2], st[3]); ok {
		fmt.Fprintf(&b, "ostree with / ostree without: %.3f (for reference)\n", r)
	}
	for i, label := range []string{"with", "without"} {
		g, ot := st[i], st[i+2]
		if g.Err == nil && ot.Err == nil {
			if g.Commit == ot.Commit {
				fmt.Fprintf(&b, "\n✓ %s the speedup grove and ostree write the same commit %s", label, short(g.Commit))
			} else {
				fmt.Fprintf(&b, "\n✗ %s the speedup grove wrote %s, ostree %s", label, short(g.Commit), short(ot.Commit))
			}
		}
	}
	b.WriteString("\n")
	recipeErrs(&b, cases, st)

	logf("recipe: pull-local bare-user → archive, CPU utilisation")
	archive := func(dir string) error {
		return run(e.Ostree, "init", "--mode=archive", "--repo="+filepath.Join(dir, "repo"))
	}
	pull := []string{"--repo=repo", "pull-local", e.bu(), "base"}
	pcases := []recipeCase{
		{Name: "grove pull-local", Bin: o.grove, Args: pull, Setup: archive, Ref: "base"},
		{Name: "ostree pull-local", Bin: o.ostree, Args: pull, Setup: archive, Ref: "base"},
	}
	ps := recipeMeasure(scratch, o.runs, pcases)
	b.WriteString("\n### pull-local bare-user → archive: CPU utilisation ((user+sys)/wall, rusage; > 1.5 = both cores busy)\n\n")
	b.WriteString("| tool | median wall | CPU/wall |\n|---|---:|---:|\n")
	for i, c := range pcases {
		fmt.Fprintf(&b, "| %s | %s | %.2f |\n", strings.Fields(c.Name)[0], recipeDur(ps[i]), ps[i].util())
	}
	if ps[0].Err == nil && ps[1].Err == nil {
		fmt.Fprintf(&b, "\ngrove CPU/wall > 1.5: %s; same commit: %s\n", recipeMark(ps[0].util() > 1.5), recipeMark(ps[0].Commit == ps[1].Commit))
	}
	recipeErrs(&b, pcases, ps)
	return b.String()
}

func recipeRatio(a, b recipeStats) (float64, bool) {
	if a.Err != nil || b.Err != nil || len(a.Samples) == 0 || len(b.Samples) == 0 || b.median() == 0 {
		return 0, false
	}
	return float64(a.median()) / float64(b.median()), true
}

func recipeDur(s recipeStats) string {
	if s.Err != nil && len(s.Samples) == 0 {
		return "n/a"
	}
	return dur(s.median())
}

func recipeErrs(b *strings.Builder, cases []recipeCase, st []recipeStats) {
	for i, s := range st {
		var ee *exec.ExitError
		if s.Err != nil {
			if errors.As(s.Err, &ee) {
				fmt.Fprintf(b, "\n- %s failed (exit %d): %v", cases[i].Name, ee.ExitCode(), s.Err)
			} else {
				fmt.Fprintf(b, "\n- %s failed: %v", cases[i].Name, s.Err)
			}
		}
	}
	b.WriteString("\n")
}

func recipeMark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}
