package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Bisect rows (issue 18): the per-step overhead of `grove bisect run` (the
// candidate's checkout plus the sandbox's start, the command itself a
// static no-op) against what a script around ostree pays per step at the
// least, `ostree checkout -U -H` of the same tree. Target ≤ 0.5×.
//
// Fixture bisect-history: the bare-user fixture plus a branch bhist of
// bisectCommits commits on top of base, each changing a few files the way
// an OS update does (a build stamp and ten files under usr/share/bisect),
// made with ostree commit --tree=ref= --tree=dir=. The grove side runs
// `bisect run` over the whole branch with a command that always succeeds
// (grove's own static binary, `--version`, mounted from the host into the
// sandbox), so the run tests the commit git would test first and halves
// the range each time; its wall time is divided by the number of tests it
// reports ("in N tests"). The ostree side checks bhist out once.

const bisectCommits = 64

func (e *env) bisectHist() string { return filepath.Join(e.Fx, "bisect-history") }

func (e *env) buildBisectHistory() error {
	repo := e.bisectHist()
	if err := linkCopyRepo(e.bu(), repo); err != nil {
		return err
	}
	prev := "base"
	for i := 0; i < bisectCommits; i++ {
		ov := filepath.Join(e.Fx, "bisect-overlay")
		if err := removeAll(ov); err != nil {
			return err
		}
		files := map[string]string{"etc/bisect-build": strconv.Itoa(i) + "\n"}
		for j := 0; j < 10; j++ {
			files[fmt.Sprintf("usr/share/bisect/f%02d", (i+j)%25)] = strings.Repeat(fmt.Sprintf("build %d file %d\n", i, j), 64)
		}
		for p, c := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(ov, p)), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(ov, p), []byte(c), 0o644); err != nil {
				return err
			}
		}
		args := append([]string{"--repo=" + repo, "commit", "--fsync=false", "-b", "bhist", "--tree=ref=" + prev, "--tree=dir=" + ov}, commitFlags()...)
		if err := run(e.Ostree, args...); err != nil {
			return err
		}
		prev = "bhist"
		if i == 0 {
			sum, err := revParse(e.Ostree, repo, "bhist")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(repo, "bisect-first"), []byte(sum), 0o644); err != nil {
				return err
			}
		}
	}
	return removeAll(filepath.Join(e.Fx, "bisect-overlay"))
}

func revParse(bin, repo, rev string) (string, error) {
	out := output(bin, "--repo="+repo, "rev-parse", rev)
	if len(strings.TrimSpace(out)) != 64 {
		return "", fmt.Errorf("rev-parse %s in %s: %q", rev, repo, out)
	}
	return strings.TrimSpace(out), nil
}

var bisectTestsRe = regexp.MustCompile(`bisect found the first bad commit in (\d+) tests?`)

// bisectSteps reads how many tests grove's bisect run made from its output.
func bisectSteps(dir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "stdout"))
	if err != nil {
		return 0, err
	}
	m := bisectTestsRe.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("bisect run did not say how many tests it made")
	}
	return strconv.Atoi(string(m[1]))
}

func bisectRows() []row {
	return []row{{
		Name: "bisect run, per step ÷ checkout -U -H", Target: 0.5,
		Fixtures: []string{"bisect-history"},
		Setup: func(e *env, dir string) error {
			repo := filepath.Join(dir, "repo")
			if err := linkCopyRepo(e.bisectHist(), repo); err != nil {
				return err
			}
			first, err := os.ReadFile(filepath.Join(repo, "bisect-first"))
			if err != nil {
				return err
			}
			return run(e.Grove, "--repo="+repo, "bisect", "start", "bhist", string(first))
		},
		Cmds: func(e *env, dir string) [][]string {
			return [][]string{{"--repo=repo", "checkout", "-U", "-H", "bhist", "co"}}
		},
		GroveCmds: func(e *env, dir string) [][]string {
			return [][]string{{"--repo=repo", "bisect", "run", "--sandbox=bwrap", e.Grove, "--version"}}
		},
		PerStep: bisectSteps,
	}}
}
