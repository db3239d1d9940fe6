package trial_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/bisect"
	"github.com/groveos/grove/core/bisect/bisecttest"
	"github.com/groveos/grove/core/checkout"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/trial"
)

// checkerHistory is a small history whose trees carry the checker.
func checkerHistory(t *testing.T, mode repo.Mode) (*repo.Repo, *bisecttest.History) {
	t.Helper()
	r := repotest.NewRepo(t, mode)
	h, err := bisecttest.Build(context.Background(), r, bisecttest.Options{
		N: 6, K: 3, Untestable: []int{4},
		Files: map[string][]byte{bisecttest.CheckerPath: bisecttest.Checker(t), "tmp/.keep": nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, h
}

// sandboxes lists the sandboxes that work here; in CI bwrap and chroot
// must (the CI runs as root with bubblewrap installed).
func sandboxes(t *testing.T) []trial.Sandbox {
	out := []trial.Sandbox{trial.None}
	if _, err := exec.LookPath("bwrap"); err == nil {
		out = append(out, trial.Bwrap)
	} else if os.Getenv("CI") != "" {
		t.Error("bwrap is required in CI")
	}
	if os.Geteuid() == 0 {
		out = append(out, trial.Chroot)
	}
	return out
}

// TestSandboxes runs the checker in each sandbox: exit codes per the
// tree, the environment bisect run promises, a read-only tree (nothing
// written through the hardlinks into the repository), writable copies on
// request, and no mount points left in the tree.
func TestSandboxes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, h := checkerHistory(t, repo.ModeBareUser)
	for _, sb := range sandboxes(t) {
		t.Run(sb.String(), func(t *testing.T) {
			var out, errOut bytes.Buffer
			cmd := []string{"bisect-check"} // on the tree's PATH
			if sb == trial.None {
				cmd = []string{"sh", "-c", `exec "$GROVE_BISECT_ROOT/` + bisecttest.CheckerPath + `" "$@"`, "sh"}
			}
			tr, err := trial.New(ctx, r, t.TempDir(), trial.Options{Command: cmd, Sandbox: sb, Stdout: &out, Stderr: &errOut})
			if err != nil {
				t.Fatal(err)
			}
			if tr.Sandbox() != sb {
				t.Fatalf("sandbox %s, want %s", tr.Sandbox(), sb)
			}
			for i, want := range []int{0, 0, 0, 1, 125, 1} {
				code, err := tr.Test(ctx, h.Commits[i])
				if err != nil || code != want {
					t.Errorf("commit %d: exit %d (%v), want %d; output %s%s", i, code, err, want, out.String(), errOut.String())
				}
			}
			for _, p := range []string{"dev", "proc", ".grove-bisect-command"} {
				if _, err := os.Lstat(filepath.Join(tr.Root(), p)); err == nil {
					t.Errorf("mount point /%s left in the tree", p)
				}
			}
			// The environment and a write attempt.
			tr2, err := trial.New(ctx, r, t.TempDir(), trial.Options{Command: append(cmd, "-print", "-write", "etc/behaviour", "-exit", "7"), Sandbox: sb, Stdout: &out, Stderr: &errOut})
			if err != nil {
				t.Fatal(err)
			}
			out.Reset()
			code, err := tr2.Test(ctx, h.Commits[5])
			if err != nil || code != 7 {
				t.Fatalf("exit %d, %v", code, err)
			}
			root, wd := "/", "/"
			if sb == trial.None {
				root, wd = tr2.Root(), tr2.Root()
			}
			if want := "root=" + root + " commit=" + h.Commits[5].String() + " wd=" + wd + "\n"; !strings.HasPrefix(out.String(), want) {
				t.Errorf("output %q, want %q first", out.String(), want)
			}
			if sb != trial.None {
				// -write's path is relative to the working directory /.
				if !strings.Contains(out.String(), "write etc/behaviour: failed") {
					t.Errorf("the tree is writable in %s: %s", sb, out.String())
				}
			}
			fresh := filepath.Join(t.TempDir(), "fresh")
			if err := checkout.Checkout(ctx, r, h.Commits[5], fresh, checkout.Options{User: true}); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(filepath.Join(fresh, bisecttest.BehaviourPath)); string(b) != "broken\n" {
				t.Errorf("the repository's object changed: %q", b)
			}
			if sb == trial.None {
				return
			}
			// Writable: copies, which the command may change.
			tr3, err := trial.New(ctx, r, t.TempDir(), trial.Options{Command: append(cmd, "-write", "etc/behaviour", "-exit", "0"), Sandbox: sb, Writable: true, Stdout: &out})
			if err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if code, err := tr3.Test(ctx, h.Commits[5]); err != nil || code != 0 || !strings.Contains(out.String(), "write etc/behaviour: ok") {
				t.Errorf("writable: exit %d, %v: %s", code, err, out.String())
			}
			if b, _ := os.ReadFile(filepath.Join(fresh, bisecttest.BehaviourPath)); string(b) != "broken\n" {
				t.Errorf("a writable trial changed the repository's object: %q", b)
			}
		})
	}
}

// TestCommandNotFound: missing on the host is an error at once; missing
// in a tree is the shell's 127 with a word on stderr; a host script is
// mounted into the sandbox.
func TestCommandNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, h := checkerHistory(t, repo.ModeBareUser)
	if _, err := trial.New(ctx, r, t.TempDir(), trial.Options{Command: []string{"no-such-command-here"}, Sandbox: trial.None}); !errors.Is(err, trial.ErrNotFound) {
		t.Errorf("none: %v", err)
	}
	if _, err := trial.New(ctx, r, t.TempDir(), trial.Options{Sandbox: trial.None}); !errors.Is(err, trial.ErrNotFound) {
		t.Errorf("no command: %v", err)
	}
	for _, sb := range sandboxes(t)[1:] {
		var errOut, out bytes.Buffer
		tr, err := trial.New(ctx, r, t.TempDir(), trial.Options{Command: []string{"no-such-command-here"}, Sandbox: sb, Stderr: &errOut})
		if err != nil {
			t.Fatal(err)
		}
		code, err := tr.Test(ctx, h.Commits[0])
		if err != nil || code != 127 || !strings.Contains(errOut.String(), "no-such-command-here: command not found in "+h.Commits[0].String()) {
			t.Errorf("%s: exit %d, %v, stderr %q", sb, code, err, errOut.String())
		}
		// A script on the host runs inside the tree (its interpreter too:
		// here the checker itself, by absolute path in the tree).
		script := filepath.Join(t.TempDir(), "test.sh")
		os.WriteFile(script, []byte("#!/"+bisecttest.CheckerPath+"\n"), 0o755)
		tr, err = trial.New(ctx, r, t.TempDir(), trial.Options{Command: []string{script}, Sandbox: sb, Stdout: &out, Stderr: &errOut})
		if err != nil {
			t.Fatal(err)
		}
		code, err = tr.Test(ctx, h.Commits[3])
		if err != nil || code != 1 || out.String() != "behaviour broken\n" {
			t.Errorf("%s: host script: exit %d, %v: %s %s", sb, code, err, out.String(), errOut.String())
		}
	}
}

// TestUntestable: a candidate whose tree cannot be checked out is an
// UntestableError, and the next one is checked out fine.
func TestUntestable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, h := checkerHistory(t, repo.ModeBareUser)
	tr, err := trial.New(ctx, r, t.TempDir(), trial.Options{Command: []string{"true"}, Sandbox: trial.None})
	if err != nil {
		t.Fatal(err)
	}
	// Remove the object behind commit 2's etc/build.
	c, err := r.LoadCommit(ctx, h.Commits[2])
	if err != nil {
		t.Fatal(err)
	}
	node, err := checkout.Resolve(ctx, r, c.RootTree, c.RootMeta, bisecttest.BuildPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteObject(ctx, oid.ObjectName{Checksum: node.File, Type: oid.File}); err != nil {
		t.Fatal(err)
	}
	_, err = tr.Test(ctx, h.Commits[2])
	var ue *bisect.UntestableError
	if !errors.As(err, &ue) || ue.Commit != h.Commits[2] {
		t.Fatalf("broken candidate: %v", err)
	}
	if code, err := tr.Test(ctx, h.Commits[4]); err != nil || code != 0 {
		t.Errorf("after a broken candidate: %d %v", code, err)
	}
}
