package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Timestamp and subject given to every commit, on both sides, so that commit
// checksums are reproducible and comparable.
const (
	benchTimestamp = "2024-01-01T00:00:00Z"
	benchSubject   = "grove bench"
	histCommits    = 1000
)

func commitFlags() []string {
	return []string{"--timestamp=" + benchTimestamp, "-s", benchSubject}
}

// env is what rows see: the tools, the tree and the shared fixtures.
type env struct {
	Ostree string // the reference tool; fixtures and setups always use it
	Grove  string // the tool under test (pull rows serve with grove serve)
	Tree   string
	Fx     string // fixtures directory

	built   map[string]error
	url     string   // the "server" fixture's URL
	bigURL  string   // the "bigserver" fixture's URL
	cleanup []func() // servers to stop when the bench ends
}

// close stops what fixtures started.
func (e *env) close() {
	for _, f := range e.cleanup {
		f()
	}
}

// Fixture repositories, built once per invocation with the reference ostree
// and only read by timed commands (never written: rows that write work on
// a hard-linked copy).
func (e *env) bu() string   { return filepath.Join(e.Fx, "bare-user") }
func (e *env) ar() string   { return filepath.Join(e.Fx, "archive") }
func (e *env) hist() string { return filepath.Join(e.Fx, "history") }

// need builds the named fixture once.
func (e *env) need(name string) error {
	if err, ok := e.built[name]; ok {
		return err
	}
	start := time.Now()
	var err error
	switch name {
	case "bare-user":
		err = e.buildBareUser()
	case "archive":
		if err = e.need("bare-user"); err == nil {
			err = e.buildArchive()
		}
	case "history":
		err = e.buildHistory()
	case "sysroot":
		err = e.buildSysroot()
	case "sysroot-10":
		err = e.buildSysroot10()
	case "upgrade":
		if err = e.need("archive"); err == nil {
			err = e.buildUpgrade()
		}
	case "bigdelta":
		err = e.buildBigDelta()
	case "published":
		if err = e.need("archive"); err == nil {
			err = e.buildPublished()
		}
	case "server":
		if err = e.need("published"); err == nil {
			e.url, err = e.serveRepo(e.published())
		}
	case "bigserver":
		if err = e.buildBigFile(); err == nil {
			e.bigURL, err = e.serveRepo(e.bigRepo())
		}
	default:
		err = fmt.Errorf("unknown fixture %q", name)
	}
	e.built[name] = err
	if err == nil {
		logf("fixture %s ready in %s", name, time.Since(start).Round(time.Millisecond))
	}
	return err
}

// buildBareUser: ref base = the tree; base2 = the tree with usr/share/doc
// removed, every 10th file under usr/ changed and a few files added; r3 =
// base plus a small overlay that also replaces a few existing files.
func (e *env) buildBareUser() error {
	repo := e.bu()
	if err := run(e.Ostree, "init", "--mode=bare-user", "--repo="+repo); err != nil {
		return err
	}
	if err := run(e.Ostree, append([]string{"--repo=" + repo, "commit", "-b", "base", "--tree=dir=" + e.Tree}, commitFlags()...)...); err != nil {
		return err
	}
	co := filepath.Join(e.Fx, "co-base2")
	if err := run(e.Ostree, "--repo="+repo, "checkout", "-U", "-H", "base", co); err != nil {
		return err
	}
	if err := mutateCheckout(co); err != nil {
		return fmt.Errorf("mutating %s: %w", co, err)
	}
	if err := run(e.Ostree, append([]string{"--repo=" + repo, "commit", "--link-checkout-speedup", "-b", "base2", "--tree=dir=" + co}, commitFlags()...)...); err != nil {
		return err
	}
	if err := removeAll(co); err != nil {
		return err
	}
	ov := filepath.Join(e.Fx, "overlay3")
	files := map[string]string{
		"etc/hostname":               "grove-bench\n",
		"etc/motd":                   "overlay r3\n",
		"usr/local/bin/hello":        "#!/bin/sh\necho hello\n",
		"usr/share/grove/README":     "overlay r3\n",
		"usr/share/grove/data/a.txt": strings.Repeat("a", 4096),
		"var/lib/grove/state":        "1\n",
	}
	for name, content := range files {
		p := filepath.Join(ov, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.Contains(name, "/bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			return err
		}
	}
	return run(e.Ostree, append([]string{"--repo=" + repo, "commit", "-b", "r3", "--tree=ref=base", "--tree=dir=" + ov}, commitFlags()...)...)
}

// mutateCheckout changes a hard-linked checkout without touching the
// repository's objects: changed files are written anew and renamed over.
func mutateCheckout(co string) error {
	if err := removeAll(filepath.Join(co, "usr/share/doc")); err != nil {
		return err
	}
	n := 0
	err := filepath.WalkDir(filepath.Join(co, "usr"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		n++
		if n%10 != 0 {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		tmp := p + ".bench-tmp"
		if err := os.WriteFile(tmp, append(b, "\n# grove bench\n"...), 0o600); err != nil {
			return err
		}
		if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
			return err
		}
		return os.Rename(tmp, p)
	})
	if err != nil {
		return err
	}
	dir := filepath.Join(co, "opt/grove-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := range 50 {
		if err := os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), []byte(strings.Repeat("x", i*100)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) buildArchive() error {
	repo := e.ar()
	if err := run(e.Ostree, "init", "--mode=archive", "--repo="+repo); err != nil {
		return err
	}
	return run(e.Ostree, "--repo="+repo, "pull-local", e.bu(), "base")
}

// buildHistory makes ref hist with histCommits small commits, each changing
// a one-file tree. Durability does not matter for a fixture, so it skips
// fsync to be quick.
func (e *env) buildHistory() error {
	repo := e.hist()
	if err := run(e.Ostree, "init", "--mode=bare-user", "--repo="+repo); err != nil {
		return err
	}
	tiny := filepath.Join(e.Fx, "tiny")
	if err := os.MkdirAll(tiny, 0o755); err != nil {
		return err
	}
	t0, _ := time.Parse(time.RFC3339, benchTimestamp)
	for i := range histCommits {
		if err := os.WriteFile(filepath.Join(tiny, "n"), []byte(strconv.Itoa(i)+"\n"), 0o644); err != nil {
			return err
		}
		ts := t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		if err := run(e.Ostree, "--repo="+repo, "commit", "--fsync=false", "-b", "hist", "--tree=dir="+tiny,
			"--timestamp="+ts, "-s", "commit "+strconv.Itoa(i), "--add-metadata-string=bench.n="+strconv.Itoa(i)); err != nil {
			return err
		}
	}
	return nil
}

// row is one benchmark line. Setup prepares a fresh scratch dir (untimed,
// always with the reference ostree); Cmds are the timed argument lists,
// identical for both tools; Ref, if set, names the ref whose commit checksum
// must be the same after an ostree run and a grove run; Output says the
// standard output of the last command must be byte-identical.
type row struct {
	Name     string
	Target   float64
	Fixtures []string
	Setup    func(e *env, dir string) error
	Cmds     func(e *env, dir string) [][]string
	Ref      string // repo is dir/repo; "REMOTE:REF" for refs/remotes/REMOTE/REF
	Output   bool
	// Env is added to both tools' environment.
	Env []string
	// GroveEnv is added to grove's environment only (e.g. GOMAXPROCS=1).
	GroveEnv []string
	// Max, when set, is an absolute target for grove's median (the
	// report marks the row by it instead of by the ratio).
	Max time.Duration
	// GroveOnly rows have no ostree counterpart (ostree lacks the verb):
	// only grove is timed, against Max.
	GroveOnly bool
	// Size, if set, measures what a run wrote (a delta's bytes); the
	// report compares the two tools' sizes against SizeTarget.
	Size       func(dir string) int64
	SizeTarget float64
	// Check, when set, adds notes from the measured result (absolute
	// targets such as objects per second).
	Check func(e *env, r *result) []string
}

func initRepo(mode string) func(e *env, dir string) error {
	return func(e *env, dir string) error {
		return run(e.Ostree, "init", "--mode="+mode, "--repo="+filepath.Join(dir, "repo"))
	}
}

func rows() []row {
	return []row{
		{
			Name: "commit → bare-user", Target: 0.35,
			Setup: initRepo("bare-user"),
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{append([]string{"--repo=repo", "commit", "-b", "base", "--tree=dir=" + e.Tree}, commitFlags()...)}
			},
			Ref: "base",
		},
		{
			Name: "commit → archive", Target: 0.15,
			Setup: initRepo("archive"),
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{append([]string{"--repo=repo", "commit", "-b", "base", "--tree=dir=" + e.Tree}, commitFlags()...)}
			},
			Ref: "base",
		},
		{
			Name: "re-commit checkout, --link-checkout-speedup", Target: 0.1,
			Fixtures: []string{"bare-user"},
			Setup: func(e *env, dir string) error {
				repo := filepath.Join(dir, "repo")
				if err := linkCopyRepo(e.bu(), repo); err != nil {
					return err
				}
				return run(e.Ostree, "--repo="+repo, "checkout", "-U", "-H", "base", filepath.Join(dir, "co"))
			},
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{append([]string{"--repo=repo", "commit", "--link-checkout-speedup", "-b", "x2"}, append(commitFlags(), "co")...)}
			},
			Ref: "x2",
		},
		{
			Name: "checkout -U -H ← bare-user", Target: 0.5,
			Fixtures: []string{"bare-user"},
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=" + e.bu(), "checkout", "-U", "-H", "base", "co"}}
			},
		},
		{
			Name: "checkout -U ← archive", Target: 0.15,
			Fixtures: []string{"archive"},
			// ostree fills uncompressed-objects-cache on -U checkouts from
			// archive repos and hardlinks from it next time; start every
			// run without it so both tools inflate.
			Setup: func(e *env, dir string) error {
				return os.RemoveAll(filepath.Join(e.ar(), "uncompressed-objects-cache"))
			},
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=" + e.ar(), "checkout", "-U", "base", "co"}}
			},
		},
		{
			Name: "union of 3 refs + re-commit", Target: 1.0,
			Fixtures: []string{"bare-user"},
			Setup: func(e *env, dir string) error {
				return linkCopyRepo(e.bu(), filepath.Join(dir, "repo"))
			},
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{
					{"--repo=repo", "checkout", "-U", "--union", "base", "co"},
					{"--repo=repo", "checkout", "-U", "--union", "base2", "co"},
					{"--repo=repo", "checkout", "-U", "--union", "r3", "co"},
					append([]string{"--repo=repo", "commit", "-b", "union"}, append(commitFlags(), "co")...),
				}
			},
			Ref: "union",
		},
		{
			Name: "pull-local bare-user → archive", Target: 0.3,
			Fixtures: []string{"bare-user"},
			Setup:    initRepo("archive"),
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=repo", "pull-local", e.bu(), "base"}}
			},
			Ref: "base",
		},
		{
			Name: "fsck bare-user", Target: 0.3,
			Fixtures: []string{"bare-user"},
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=" + e.bu(), "fsck"}}
			},
		},
		{
			Name: "fsck archive", Target: 0.3,
			Fixtures: []string{"archive"},
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=" + e.ar(), "fsck"}}
			},
		},
		{
			Name: fmt.Sprintf("log, %d commits", histCommits), Target: 1.0,
			Fixtures: []string{"history"},
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=" + e.hist(), "log", "hist"}}
			},
			Output: true,
		},
		{
			Name: "diff base base2", Target: 1.0,
			Fixtures: []string{"bare-user"},
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=" + e.bu(), "diff", "base", "base2"}}
			},
			Output: true,
		},
		adminDeployRow(),
		adminStatusRow(),
		adminRollbackRow(),
		{
			Name: "ls -R base", Target: 1.0,
			Fixtures: []string{"bare-user"},
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=" + e.bu(), "ls", "-R", "base"}}
			},
			Output: true,
		},
	}
}

// allRows is every row: the local ones, the network pulls, the static deltas.
func allRows() []row { return append(append(rows(), pullRows()...), deltaRows()...) }
