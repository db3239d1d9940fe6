package main

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"
)

// Network pull rows (issue 15): both tools pull from the same loopback
// server, `grove serve` over an archive copy of the bare-user fixture with
// a summary written by ostree. Targets: full pull ≤ 0.3× ostree and at
// least 3,000 objects/s; a no-op pull within 50 ms; peak RSS under
// 200 MB; a 1 GiB file pulled without holding it in memory.

const (
	objectsPerSecondTarget = 3000
	noopTarget             = 50 * time.Millisecond
	pullRSSTarget          = 200 << 20
)

// bigFileMiB is the size of the big-file row's file (-bigfile-mib).
var bigFileMiB = 1024

// published is an archive repository with a summary, served over HTTP.
func (e *env) published() string { return filepath.Join(e.Fx, "published") }
func (e *env) bigRepo() string   { return filepath.Join(e.Fx, "bigfile") }

func (e *env) buildPublished() error {
	if err := linkCopyRepo(e.ar(), e.published()); err != nil {
		return err
	}
	return run(e.Ostree, "--repo="+e.published(), "summary", "-u")
}

// buildBigFile commits one 1 GiB file (random 64 KiB blocks, repeated:
// deflate finds nothing to share within its window, so nothing is cheap)
// into an archive repository with a summary.
func (e *env) buildBigFile() error {
	dir := filepath.Join(e.Fx, "bigtree")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "big.img"))
	if err != nil {
		return err
	}
	block := make([]byte, 64<<10)
	w := bufio.NewWriterSize(f, 1<<20)
	for n := 0; n < bigFileMiB<<20; n += len(block) {
		if n%(16<<20) == 0 {
			if _, err := io.ReadFull(rand.Reader, block); err != nil {
				f.Close()
				return err
			}
		}
		if _, err := w.Write(block); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := run(e.Ostree, "init", "--mode=archive", "--repo="+e.bigRepo()); err != nil {
		return err
	}
	if err := run(e.Ostree, append([]string{"--repo=" + e.bigRepo(), "commit", "--fsync=false", "-b", "big", "--tree=dir=" + dir}, commitFlags()...)...); err != nil {
		return err
	}
	if err := removeAll(dir); err != nil {
		return err
	}
	return run(e.Ostree, "--repo="+e.bigRepo(), "summary", "-u")
}

// serveRepo starts `grove serve` on a repository (the same server for both
// tools) and returns its URL; the server stops when the bench ends.
func (e *env) serveRepo(repo string) (string, error) {
	cmd := exec.Command(e.Grove, "serve", "--port=0", "--address=127.0.0.1", repo)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	e.cleanup = append(e.cleanup, func() { cmd.Process.Kill(); cmd.Wait() })
	re := regexp.MustCompile(`on (https?://\S+)/$`)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		close(urls)
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			return "", fmt.Errorf("grove serve %s exited", repo)
		}
		return u, nil
	case <-time.After(30 * time.Second):
		return "", fmt.Errorf("grove serve %s did not start", repo)
	}
}

// countObjects counts a repository's loose objects.
func countObjects(repo string) int {
	n := 0
	filepath.WalkDir(filepath.Join(repo, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// pullClient returns a setup making an empty repository of mode with
// remote origin at url (written by ostree: the same config for both).
func pullClient(mode string, url func(e *env) string, pullFirst bool) func(e *env, dir string) error {
	return func(e *env, dir string) error {
		repo := filepath.Join(dir, "repo")
		if err := run(e.Ostree, "init", "--mode="+mode, "--repo="+repo); err != nil {
			return err
		}
		if err := run(e.Ostree, "--repo="+repo, "remote", "add", "--no-gpg-verify", "origin", url(e)); err != nil {
			return err
		}
		if pullFirst {
			return run(e.Ostree, "--repo="+repo, "pull", "origin", "base")
		}
		return nil
	}
}

func pullRows() []row {
	return []row{
		{
			Name: "pull over HTTP → bare-user", Target: 0.3,
			Fixtures: []string{"server"},
			Setup:    pullClient("bare-user", func(e *env) string { return e.url }, false),
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=repo", "pull", "origin", "base"}}
			},
			Ref: "origin:base",
			Check: func(e *env, r *result) []string {
				n := countObjects(e.published())
				rate := func(d time.Duration) float64 { return float64(n) / math.Max(d.Seconds(), 1e-9) }
				mark := "✓"
				if rate(r.GroveMedian) < objectsPerSecondTarget {
					mark = "✗"
				}
				notes := []string{fmt.Sprintf("%s %d objects: grove %.0f objects/s, ostree %.0f objects/s (target ≥ %d)",
					mark, n, rate(r.GroveMedian), rate(r.OstreeMedian), objectsPerSecondTarget)}
				return append(notes, rssNote(r))
			},
		},
		{
			Name: "pull over HTTP, no-op (up to date)", Target: 1.0,
			Fixtures: []string{"server"},
			Setup:    pullClient("bare-user", func(e *env) string { return e.url }, true),
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=repo", "pull", "origin", "base"}}
			},
			Ref: "origin:base",
			Check: func(e *env, r *result) []string {
				mark := "✓"
				if r.GroveMedian > noopTarget {
					mark = "✗"
				}
				return []string{fmt.Sprintf("%s grove no-op pull %s (target ≤ %s)", mark, dur(r.GroveMedian), dur(noopTarget))}
			},
		},
		{
			Name: "pull over HTTP, one big file (1 GiB) → bare-user", Target: 1.0,
			Fixtures: []string{"bigserver"},
			Setup:    pullClient("bare-user", func(e *env) string { return e.bigURL }, false),
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=repo", "pull", "origin", "big"}}
			},
			Ref: "origin:big",
			Check: func(e *env, r *result) []string {
				return []string{rssNote(r)}
			},
		},
	}
}

// rssNote checks grove's peak RSS against the pull target.
func rssNote(r *result) string {
	mark := "✓"
	if peakRSS(r.Grove) >= pullRSSTarget {
		mark = "✗"
	}
	return fmt.Sprintf("%s grove peak RSS %s (target < %s)", mark, human(peakRSS(r.Grove)), human(pullRSSTarget))
}
