// Command bench times grove against ostree, command line for command line,
// on a real root filesystem tree, and reports grove/ostree ratios against
// the project's targets. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

type options struct {
	runs     int
	rows     *regexp.Regexp
	grove    string
	ostree   string
	tree     string
	timeout  time.Duration
	out      string
	keepWork bool
	work     string

	loadStart string    // /proc/loadavg when the timed rows began
	cpuStart  cpuSample // CPU time when the timed rows began
}

// result is one row's outcome.
type result struct {
	Row          row
	Ostree       []measurement
	Grove        []measurement
	OstreeErr    string // row broken on the reference side
	GroveErr     string // grove verb missing or failing
	Notes        []string
	OstreeMedian time.Duration
	GroveMedian  time.Duration
}

func main() {
	var o options
	var rowsRe string
	flag.IntVar(&o.runs, "runs", 5, "timed runs of each tool per row")
	flag.StringVar(&rowsRe, "rows", "", "only rows whose name matches this regexp")
	flag.StringVar(&o.grove, "grove", "", "grove binary (default: build ./cmd/grove into bench/work/bin)")
	flag.StringVar(&o.ostree, "ostree", "/usr/bin/ostree", "reference ostree binary")
	flag.StringVar(&o.tree, "tree", "", "tree to commit (default: prepared and cached in bench/cache)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "limit for one timed command")
	flag.StringVar(&o.out, "out", "bench/results/latest.md", "markdown report to write")
	flag.StringVar(&o.work, "work", "", "scratch directory (default bench/_work; give each concurrent run its own)")
	flag.IntVar(&bigFileMiB, "bigfile-mib", bigFileMiB, "size of the big-file pull row's file, MiB")
	flag.BoolVar(&o.keepWork, "keep", false, "keep scratch dirs of failed grove runs in bench/work/failed")
	flag.Parse()
	var err error
	if o.rows, err = regexp.Compile(rowsRe); err != nil {
		fatal(err)
	}
	if err := mainErr(&o); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func mainErr(o *options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	work := filepath.Join(root, "bench", "_work") // "_": invisible to go list ./...
	if o.work != "" {
		if work, err = filepath.Abs(o.work); err != nil {
			return err
		}
	}
	if o.ostree, err = exec.LookPath(o.ostree); err != nil {
		return fmt.Errorf("ostree: %w", err)
	}
	if o.grove == "" {
		o.grove = filepath.Join(work, "bin", "grove")
		logf("building grove → %s (static, like make build)", o.grove)
		cmd := exec.Command("go", "build", "-o", o.grove, "./cmd/grove")
		// A static binary starts about a millisecond sooner: no dynamic
		// loader, no libc initialisation (the re-commit row is 60 ms).
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/grove: %w", err)
		}
	} else if o.grove, err = exec.LookPath(o.grove); err != nil {
		return fmt.Errorf("grove: %w", err)
	}
	if o.grove, err = filepath.Abs(o.grove); err != nil {
		return err
	}

	var meta treeMeta
	if o.tree == "" {
		if o.tree, meta, err = prepareTree(filepath.Join(root, "bench", "_cache")); err != nil {
			return err
		}
	} else {
		meta = treeMeta{Source: "given with -tree (used as is)"}
	}
	if o.tree, err = filepath.Abs(o.tree); err != nil {
		return err
	}
	stats, err := statTree(o.tree)
	if err != nil {
		return err
	}
	logf("tree %s: %d files, %d dirs, %d symlinks, %s", o.tree, stats.Files, stats.Dirs, stats.Symlinks, human(stats.Bytes))

	// Fresh fixtures and scratch space every invocation.
	for _, d := range []string{"fixtures", "runs", "outputs", "failed"} {
		if err := removeAll(filepath.Join(work, d)); err != nil {
			return err
		}
	}
	e := &env{Ostree: o.ostree, Grove: o.grove, Tree: o.tree, Fx: filepath.Join(work, "fixtures"), built: map[string]error{}}
	defer e.close()
	if err := os.MkdirAll(e.Fx, 0o755); err != nil {
		return err
	}

	o.work = work
	o.loadStart = loadAvg()
	o.cpuStart = sampleCPU()
	start := time.Now()
	var results []*result
	for _, r := range allRows() {
		if !o.rows.MatchString(r.Name) {
			continue
		}
		res := benchRow(o, e, r, filepath.Join(work, "runs", slug(r.Name)))
		results = append(results, res)
		logf("%-46s %s", r.Name, summary(res))
	}
	extra := ""
	if o.rows.MatchString("recipe") {
		extra = recipeSection(o, e) // issue 3's grove-vs-grove and CPU-use measurements
	}
	total := time.Since(start)

	report := renderReport(o, meta, stats, results, total) + extra
	fmt.Print(report)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
		return err
	}
	logf("wrote %s (total %s)", o.out, total.Round(time.Second))
	_ = removeAll(filepath.Join(work, "runs"))
	return nil
}

// benchRow runs one untimed warm-up of each side, checks the two agree
// (commit checksum, output), then runs ostree and grove alternately.
func benchRow(o *options, e *env, r row, scratch string) *result {
	res := &result{Row: r}
	for _, fx := range r.Fixtures {
		if err := e.need(fx); err != nil {
			res.OstreeErr = "fixture " + fx + ": " + err.Error()
			return res
		}
	}
	n := 0
	outDir := filepath.Join(filepath.Dir(filepath.Dir(scratch)), "outputs", filepath.Base(scratch))
	once := func(side, bin string, keepOut bool) (measurement, string, error) {
		n++
		dir := filepath.Join(scratch, fmt.Sprintf("%s-%d", side, n))
		defer func() { _ = removeAll(dir) }()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return measurement{}, "", err
		}
		if r.Setup != nil {
			if err := r.Setup(e, dir); err != nil {
				return measurement{}, "", fmt.Errorf("setup: %w", err)
			}
		}
		// Flush dirty data left by the setup and earlier runs so that the
		// timed command's own fsyncs do not pay for them.
		syscall.Sync()
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		defer cancel()
		extra := r.Env
		if side == "grove" {
			extra = append(append([]string(nil), r.Env...), r.GroveEnv...)
		}
		m := execTimed(ctx, bin, r.Cmds(e, dir), dir, extra)
		if m.Err == nil && r.Size != nil {
			m.Size = r.Size(dir)
		}
		var ref string
		if m.Err == nil && r.Ref != "" {
			refPath := filepath.Join(dir, "repo", "refs", "heads", r.Ref)
			if remote, name, ok := strings.Cut(r.Ref, ":"); ok {
				refPath = filepath.Join(dir, "repo", "refs", "remotes", remote, name)
			}
			b, err := os.ReadFile(refPath)
			if err != nil {
				m.Err = fmt.Errorf("ref %s not written: %w", r.Ref, err)
			}
			ref = strings.TrimSpace(string(b))
		}
		if m.Err != nil && side == "grove" && o.keepWork {
			keep := filepath.Join(filepath.Dir(filepath.Dir(scratch)), "failed", filepath.Base(scratch))
			_ = removeAll(keep)
			_ = os.MkdirAll(filepath.Dir(keep), 0o755)
			if os.Rename(dir, keep) == nil {
				logf("kept failed grove run in %s", keep)
			}
		}
		if m.Err == nil && keepOut {
			// the warm-up outputs stay for inspection when they differ
			_ = os.MkdirAll(outDir, 0o755)
			_ = os.Rename(filepath.Join(dir, "stdout"), filepath.Join(outDir, side))
		}
		return m, ref, m.Err
	}

	// Warm-up, untimed: both sides see a warm page cache.
	var om measurement
	var oref string
	if !r.GroveOnly {
		var err error
		if om, oref, err = once("ostree", o.ostree, r.Output); err != nil {
			res.OstreeErr = err.Error()
			return res
		}
	}
	gm, gref, gerr := once("grove", o.grove, r.Output)
	if gerr != nil {
		res.GroveErr = gerr.Error()
	} else {
		if r.Ref != "" && gref != oref {
			res.Notes = append(res.Notes, fmt.Sprintf("✗ commit checksum differs: ostree %s, grove %s", short(oref), short(gref)))
		} else if r.Ref != "" {
			res.Notes = append(res.Notes, "✓ same commit "+short(oref))
		}
		if r.Output && gm.Stdout != om.Stdout {
			res.Notes = append(res.Notes, "✗ output differs from ostree's (both kept in "+rel(outDir)+")")
		} else if r.Output {
			res.Notes = append(res.Notes, "✓ same output")
			_ = removeAll(outDir)
		}
	}

	for i := range o.runs {
		sides := []string{"ostree", "grove"}
		if i%2 == 1 { // alternate who goes first
			sides = []string{"grove", "ostree"}
		}
		for _, side := range sides {
			if side == "ostree" && r.GroveOnly {
				continue
			}
			if side == "ostree" {
				m, _, err := once("ostree", o.ostree, false)
				if err != nil {
					res.OstreeErr = err.Error()
					return res
				}
				res.Ostree = append(res.Ostree, m)
			} else if res.GroveErr == "" {
				m, _, err := once("grove", o.grove, false)
				if err != nil {
					res.GroveErr = err.Error()
					continue
				}
				res.Grove = append(res.Grove, m)
			}
		}
	}
	res.OstreeMedian = median(res.Ostree)
	res.GroveMedian = median(res.Grove)
	if r.Check != nil && res.GroveErr == "" && len(res.Grove) > 0 {
		res.Notes = append(res.Notes, r.Check(e, res)...)
	}
	_ = removeAll(scratch)
	return res
}

func median(ms []measurement) time.Duration {
	if len(ms) == 0 {
		return 0
	}
	ds := make([]time.Duration, len(ms))
	for i, m := range ms {
		ds[i] = m.Wall
	}
	slices.Sort(ds)
	if len(ds)%2 == 1 {
		return ds[len(ds)/2]
	}
	return (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
}

func peakRSS(ms []measurement) int64 {
	var p int64
	for _, m := range ms {
		p = max(p, m.MaxRSS)
	}
	return p
}

func (r *result) ratio() (float64, bool) {
	if r.OstreeErr != "" || r.GroveErr != "" || r.OstreeMedian == 0 || len(r.Grove) == 0 || r.Row.GroveOnly {
		return 0, false
	}
	return float64(r.GroveMedian) / float64(r.OstreeMedian), true
}

func summary(r *result) string {
	switch {
	case r.OstreeErr != "":
		return "ostree failed: " + r.OstreeErr
	case r.GroveErr != "":
		return fmt.Sprintf("ostree %s, grove n/a (%s)", dur(r.OstreeMedian), r.GroveErr)
	}
	q, _ := r.ratio()
	return fmt.Sprintf("ostree %s, grove %s, ratio %.3f (target %s) %s", dur(r.OstreeMedian), dur(r.GroveMedian), q, r.Row.target(), strings.Join(r.Notes, "; "))
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "cmd", "grove")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the grove checkout (no go.mod with cmd/grove found)")
		}
		dir = parent
	}
}

func slug(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	if s == "" {
		return "(none)"
	}
	return s
}

func rel(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
	}
	return p
}

func dur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

func human(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

// target renders the row's target: a ratio, or grove's absolute time.
func (r row) target() string {
	if r.Max > 0 {
		return "≤ " + dur(r.Max) + " (grove)"
	}
	return fmt.Sprintf("≤ %.2f", r.Target)
}

// pass tells whether a measured row meets its target.
func (r *result) pass() bool {
	if r.Row.Max > 0 {
		return r.GroveMedian <= r.Row.Max
	}
	q, _ := r.ratio()
	return q <= r.Row.Target
}
