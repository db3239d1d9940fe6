package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// TestCommitKilledAtRandomMomentsLeavesConsistentRepo kills `grove commit`
// with SIGKILL at random moments spread over its duration. Every time, the
// repository must pass `ostree fsck` and `grove fsck`, and the branch must
// point at the old commit or at the complete new one.
func TestCommitKilledAtRandomMomentsLeavesConsistentRepo(t *testing.T) {
	repotest.NeedOstree(t)
	if testing.Short() {
		t.Skip("crash test is slow")
	}
	base := t.TempDir()
	small, big := filepath.Join(base, "small"), filepath.Join(base, "big")
	repotest.WriteFile(t, small+"/old", "old tree\n", 0o644)
	seed := time.Now().UnixNano()
	if v := os.Getenv("GROVE_CRASH_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("GROVE_CRASH_SEED=%q: %v", v, err)
		}
	}
	t.Logf("seed %d (rerun with GROVE_CRASH_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	buf := make([]byte, 48<<10)
	for i := 0; i < 100; i++ {
		rng.Read(buf)
		p := filepath.Join(big, fmt.Sprintf("d%02d", i%12), fmt.Sprintf("f%03d.bin", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, buf[:(8<<10)+rng.Intn(40<<10)], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A large compressible file keeps one archive worker deflating after
	// the others are done, so kills also land in a flush (Txn.Flush).
	var text strings.Builder
	for text.Len() < 12<<20 {
		fmt.Fprintf(&text, "line %d of a file that deflate has to work at\n", rng.Intn(1<<30))
	}
	repotest.WriteFile(t, filepath.Join(big, "text"), text.String(), 0o644)
	commitArgs := []string{"commit", "-b", "m", "--timestamp=@1600000000", "--no-xattrs", big}

	type setup struct {
		mode      repo.Mode
		template  string // repository holding only the old commit
		old, next string
		dur       time.Duration
	}
	var setups []*setup
	for _, mode := range []repo.Mode{repo.ModeArchive, repo.ModeBareUser} {
		s := &setup{mode: mode, template: filepath.Join(base, "template-"+mode.String())}
		grove(t, "--repo="+s.template, "init", "--mode="+mode.String())
		s.old = strings.TrimSpace(grove(t, "--repo="+s.template, "commit", "-b", "m", "--timestamp=@1", small))
		// Calibrate: the full commit's duration and its checksum.
		probe := cloneRepoForCrash(t, s.template, filepath.Join(base, "probe-"+mode.String()))
		start := time.Now()
		s.next = strings.TrimSpace(grove(t, append([]string{"--repo=" + probe}, commitArgs...)...))
		s.dur = time.Since(start)
		os.RemoveAll(probe)
		t.Logf("%s: full commit takes %v", mode, s.dur)
		setups = append(setups, s)
	}

	const kills = 20
	var atOld, atNew int
	for i := 0; i < kills; i++ {
		s := setups[i%len(setups)]
		r := cloneRepoForCrash(t, s.template, filepath.Join(base, fmt.Sprintf("run%02d", i)))
		delay := time.Duration(rng.Int63n(int64(s.dur) * 11 / 10))
		cmd := exec.Command(groveBin, append([]string{"--repo=" + r}, commitArgs...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		if out, err := repotest.OstreeErr(t, "--repo="+r, "fsck"); err != nil {
			t.Fatalf("kill %d (%s, after %v): ostree fsck: %v\n%s", i, s.mode, delay, err, out)
		}
		if _, errOut, err := groveErr(t, "--repo="+r, "fsck"); err != nil {
			t.Fatalf("kill %d (%s, after %v): grove fsck: %v\n%s", i, s.mode, delay, err, errOut)
		}
		ref := strings.TrimSpace(repotest.Ostree(t, "--repo="+r, "rev-parse", "m"))
		switch ref {
		case s.old:
			atOld++
		case s.next:
			atNew++
			if out, err := repotest.OstreeErr(t, "--repo="+r, "ls", "-R", ref); err != nil {
				t.Fatalf("kill %d: new commit unreadable: %v\n%s", i, err, out)
			}
		default:
			t.Fatalf("kill %d (%s, after %v): ref m = %s, want old %s or new %s", i, s.mode, delay, ref, s.old, s.next)
		}
		os.RemoveAll(r)
	}
	t.Logf("%d kills: ref at old commit %d times, at new commit %d times", kills, atOld, atNew)
}

// cloneRepoForCrash copies a repository with cp -a (hardlinks and xattrs kept).
func cloneRepoForCrash(t testing.TB, src, dst string) string {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", src, dst, err, out)
	}
	return dst
}
