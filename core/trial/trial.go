package trial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/groveos/grove/core/bisect"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Options configure a Trial.
type Options struct {
	// Command is the program and its arguments (required).
	Command []string
	// Sandbox confines the command; Auto picks the best that works.
	Sandbox Sandbox
	// Writable checks out copies instead of hardlinks, afresh for every
	// candidate, and lets the command write to them. Without a sandbox
	// (None) a trial always does so.
	Writable bool
	// Stdout and Stderr receive the command's output (nil discards it).
	Stdout, Stderr io.Writer
	// Env is added to the command's environment.
	Env []string
	// Fetcher, when set, brings a candidate's tree from a remote when the
	// repository lacks it (or has its commit only).
	Fetcher *Fetcher
}

// Trial tests commits of one repository in one scratch directory.
type Trial struct {
	r       *repo.Repo
	opts    Options
	sandbox Sandbox
	bwrap   string
	tree    *scratch
	last    CheckoutStats
}

// New prepares trials of commits of r in dir (created if needed; a tree a
// previous Trial left there is reused). It settles the sandbox (ErrSandbox
// when the one asked for does not work here) and, for None, finds the
// command on the host (ErrNotFound).
func New(ctx context.Context, r *repo.Repo, dir string, opts Options) (*Trial, error) {
	if len(opts.Command) == 0 || opts.Command[0] == "" {
		return nil, fmt.Errorf("%w: no command given", ErrNotFound)
	}
	sb, bwrap, err := resolveSandbox(ctx, opts.Sandbox)
	if err != nil {
		return nil, err
	}
	if sb == None {
		if _, err := locate("", opts.Command, None); err != nil {
			return nil, err
		}
	}
	// Nothing keeps a command without a sandbox from writing to its tree,
	// so it gets copies: hardlinks would let it write into the
	// repository's objects.
	tree, err := newScratch(r, dir, opts.Writable || sb == None)
	if err != nil {
		return nil, err
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	return &Trial{r: r, opts: opts, sandbox: sb, bwrap: bwrap, tree: tree}, nil
}

// Sandbox is the sandbox in use.
func (t *Trial) Sandbox() Sandbox { return t.sandbox }

// Root is the scratch tree's directory on the host.
func (t *Trial) Root() string { return t.tree.root() }

// LastCheckout says how the last Prepare made its tree.
func (t *Trial) LastCheckout() CheckoutStats { return t.last }

// Prepare makes the scratch tree hold commit, fetching it first through
// Options.Fetcher when there is one. A failure leaves a tree that the
// next Prepare checks out afresh.
func (t *Trial) Prepare(ctx context.Context, commit oid.Checksum) error {
	if t.opts.Fetcher != nil {
		if err := t.opts.Fetcher.EnsureTree(ctx, commit); err != nil {
			return err
		}
	}
	st, err := t.tree.moveTo(ctx, commit)
	t.last = st
	if err != nil {
		return fmt.Errorf("checking out %s: %w", commit, err)
	}
	return nil
}

// Exec runs the command against the tree Prepare made for commit and
// returns its exit status: negative when a signal ended it, 127 (after
// saying so on Stderr) when the tree has no such command.
func (t *Trial) Exec(ctx context.Context, commit oid.Checksum) (int, error) {
	root := t.tree.root()
	c, err := locate(root, t.opts.Command, t.sandbox)
	if errors.Is(err, ErrNotFound) {
		fmt.Fprintf(t.opts.Stderr, "grove bisect run: %s: command not found in %s\n", t.opts.Command[0], commit)
		return 127, nil
	}
	if err != nil {
		return 0, err
	}
	env := []string{"GROVE_BISECT_COMMIT=" + commit.String()}
	var cmd *exec.Cmd
	switch t.sandbox {
	case None:
		cmd = exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
		cmd.Dir = root
		cmd.Env = append(append(os.Environ(), t.opts.Env...), append(env, "GROVE_BISECT_ROOT="+root)...)
	case Bwrap, Chroot:
		env = append(env, "GROVE_BISECT_ROOT=/", "PATH="+sandboxPath)
		for _, k := range []string{"HOME", "TERM", "LANG", "LC_ALL", "TZ"} {
			if v, ok := os.LookupEnv(k); ok {
				env = append(env, k+"="+v)
			}
		}
		env = append(env, t.opts.Env...)
		file := ""
		if c.hostFile != "" {
			file = hostCmdMount
		}
		undo, err := mountPoints(root, []string{"dev", "proc"}, file)
		if err != nil {
			return 0, err
		}
		defer undo()
		if t.sandbox == Bwrap {
			args := bwrapArgs(t.bwrap, root, c, t.opts.Writable, env)
			cmd = exec.CommandContext(ctx, args[0], args[1:]...)
		} else {
			cmd = exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
			cmd.Env = env
		}
	}
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = t.opts.Stdout, t.opts.Stderr
	if t.sandbox == Chroot {
		err = runChroot(ctx, root, c, t.opts.Writable, cmd)
	} else {
		err = cmd.Run()
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case ctx.Err() != nil:
		return 0, ctx.Err()
	case errors.As(err, &ee):
		return ee.ExitCode(), nil
	}
	return 0, fmt.Errorf("running %s: %w", filepath.Base(t.opts.Command[0]), err)
}

// Test is a bisect.Test: Prepare then Exec. A candidate whose tree cannot
// be checked out is a *bisect.UntestableError (bisect run skips it).
func (t *Trial) Test(ctx context.Context, commit oid.Checksum) (int, error) {
	if err := t.Prepare(ctx, commit); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, &bisect.UntestableError{Commit: commit, Err: err}
	}
	return t.Exec(ctx, commit)
}
