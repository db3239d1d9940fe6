package trial

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Sandbox says how the command is confined to the tree.
type Sandbox int

const (
	// Auto picks bubblewrap when it works, else chroot when root, else
	// none.
	Auto Sandbox = iota
	// Bwrap runs the command under bubblewrap with the tree as its root.
	Bwrap
	// Chroot runs it chrooted into the tree, in a private mount namespace
	// where the tree is read-only (root only).
	Chroot
	// None runs it on the host, in the tree's directory, with
	// $GROVE_BISECT_ROOT naming the tree.
	None
)

var sandboxNames = []string{"auto", "bwrap", "chroot", "none"}

func (s Sandbox) String() string {
	if int(s) < len(sandboxNames) {
		return sandboxNames[s]
	}
	return fmt.Sprintf("Sandbox(%d)", int(s))
}

// ParseSandbox reads auto, bwrap, chroot or none.
func ParseSandbox(s string) (Sandbox, error) {
	for i, n := range sandboxNames {
		if s == n {
			return Sandbox(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown sandbox %q (auto, bwrap, chroot or none)", ErrSandbox, s)
}

// Errors returned by this package.
var (
	ErrSandbox  = errors.New("trial: sandbox unavailable")
	ErrNotFound = errors.New("trial: command not found")
)

// sandboxPath is $PATH inside the tree.
const sandboxPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// hostCmdMount is where a command from the host is mounted in the tree.
const hostCmdMount = "/.grove-bisect-command"

// bwrapWorks runs bubblewrap once to see that it can make a sandbox here
// (it cannot in some containers).
func bwrapWorks(ctx context.Context) (string, bool) {
	p, err := exec.LookPath("bwrap")
	if err != nil {
		return "", false
	}
	err = exec.CommandContext(ctx, p, "--ro-bind", "/", "/", "--unshare-pid", "--die-with-parent", "--", "/bin/true").Run()
	if err != nil {
		// A host without /bin/true: the error is then about exec only.
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return "", false
		}
		out, _ := exec.CommandContext(ctx, p, "--ro-bind", "/", "/", "--", p, "--version").Output()
		if len(out) == 0 {
			return "", false
		}
	}
	return p, true
}

// resolveSandbox turns Auto into what works here and checks the others.
func resolveSandbox(ctx context.Context, s Sandbox) (Sandbox, string, error) {
	switch s {
	case Auto:
		if p, ok := bwrapWorks(ctx); ok {
			return Bwrap, p, nil
		}
		if os.Geteuid() == 0 {
			return Chroot, "", nil
		}
		return None, "", nil
	case Bwrap:
		p, ok := bwrapWorks(ctx)
		if !ok {
			return s, "", fmt.Errorf("%w: bwrap is not installed or cannot create a sandbox here", ErrSandbox)
		}
		return s, p, nil
	case Chroot:
		if os.Geteuid() != 0 {
			return s, "", fmt.Errorf("%w: chroot needs root", ErrSandbox)
		}
		return s, "", nil
	case None:
		return s, "", nil
	}
	return s, "", fmt.Errorf("%w: %v", ErrSandbox, s)
}

// inTree resolves p (absolute, as the command would see it) inside root,
// following symlinks as if root were /; it returns the host path of what
// p names and whether it is an executable regular file.
func inTree(root, p string) (string, bool) {
	cur := "/"
	rest := strings.Split(strings.TrimPrefix(path.Clean("/"+p), "/"), "/")
	for hops := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		if name == "" || name == "." {
			continue
		}
		if name == ".." {
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, name)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			return "", false
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if hops++; hops > 40 {
				return "", false
			}
			target, err := os.Readlink(filepath.Join(root, next))
			if err != nil {
				return "", false
			}
			if strings.HasPrefix(target, "/") {
				cur = "/"
			}
			rest = append(strings.Split(target, "/"), rest...)
			continue
		}
		cur = next
	}
	host := filepath.Join(root, cur)
	fi, err := os.Stat(host)
	return host, err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// command is how one run starts: the program as the sandbox sees it, and
// a host file to mount at hostCmdMount ("" for none).
type command struct {
	argv     []string
	hostFile string
}

// locate finds the command for a tree at root: a bare name on the tree's
// $PATH, an absolute path in the tree, else (a path with a slash) the
// host's file, mounted into the sandbox. ErrNotFound when neither has it.
func locate(root string, argv []string, sandbox Sandbox) (command, error) {
	name := argv[0]
	if sandbox == None {
		p, err := exec.LookPath(name)
		if err != nil {
			return command{}, fmt.Errorf("%w: %s", ErrNotFound, name)
		}
		return command{argv: append([]string{p}, argv[1:]...)}, nil
	}
	if !strings.Contains(name, "/") {
		for _, dir := range filepath.SplitList(sandboxPath) {
			if _, ok := inTree(root, path.Join(dir, name)); ok {
				return command{argv: append([]string{path.Join(dir, name)}, argv[1:]...)}, nil
			}
		}
		return command{}, fmt.Errorf("%w: %s is not on the tree's PATH (%s)", ErrNotFound, name, sandboxPath)
	}
	if strings.HasPrefix(name, "/") {
		if _, ok := inTree(root, name); ok {
			return command{argv: argv}, nil
		}
	}
	abs, err := filepath.Abs(name)
	if err == nil {
		if fi, err := os.Stat(abs); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return command{argv: append([]string{hostCmdMount}, argv[1:]...), hostFile: abs}, nil
		}
	}
	return command{}, fmt.Errorf("%w: %s is neither in the tree nor an executable file on the host", ErrNotFound, name)
}

// mountPoints creates in the tree the mount points a sandbox needs and
// lacks, and returns a function that removes them again.
func mountPoints(root string, dirs []string, file string) (func(), error) {
	var made []string
	undo := func() {
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i])
		}
	}
	for _, d := range dirs {
		p := filepath.Join(root, d)
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		if err := os.Mkdir(p, 0o755); err != nil {
			undo()
			return nil, fmt.Errorf("trial: mount point %s: %w", d, err)
		}
		made = append(made, p)
	}
	if file != "" {
		p := filepath.Join(root, file)
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			undo()
			return nil, fmt.Errorf("trial: mount point %s: %w", file, err)
		}
		made = append(made, p)
	}
	return undo, nil
}

// tmpDirs are mounted as fresh tmpfs where the tree has them.
var tmpDirs = []string{"tmp", "run", "var/tmp"}

func isDir(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}

// bwrapArgs builds bubblewrap's command line.
func bwrapArgs(bwrap, root string, c command, writable bool, env []string) []string {
	bind := "--ro-bind"
	if writable {
		bind = "--bind"
	}
	args := []string{bwrap, bind, root, "/", "--dev", "/dev", "--proc", "/proc"}
	for _, d := range tmpDirs {
		if isDir(filepath.Join(root, d)) {
			args = append(args, "--tmpfs", "/"+d)
		}
	}
	if c.hostFile != "" {
		args = append(args, "--ro-bind", c.hostFile, hostCmdMount)
	}
	args = append(args, "--unshare-pid", "--die-with-parent", "--chdir", "/", "--clearenv")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, "--setenv", k, v)
	}
	return append(append(args, "--"), c.argv...)
}

// runChroot runs cmd chrooted into root from a thread of its own with a
// private mount namespace in which root is read-only (unless writable)
// and has /proc, /dev and fresh tmpfs mounts. The thread is never
// unlocked, so the namespace dies with it.
func runChroot(ctx context.Context, root string, c command, writable bool, cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
				return fmt.Errorf("%w: unshare: %v", ErrSandbox, err)
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return fmt.Errorf("%w: private mounts: %v", ErrSandbox, err)
			}
			if err := unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
				return fmt.Errorf("%w: bind %s: %v", ErrSandbox, root, err)
			}
			if !writable {
				if err := unix.Mount("", root, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
					return fmt.Errorf("%w: read-only %s: %v", ErrSandbox, root, err)
				}
			}
			if err := unix.Mount("proc", filepath.Join(root, "proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
				return fmt.Errorf("%w: /proc: %v", ErrSandbox, err)
			}
			if err := unix.Mount("/dev", filepath.Join(root, "dev"), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
				return fmt.Errorf("%w: /dev: %v", ErrSandbox, err)
			}
			for _, d := range tmpDirs {
				if p := filepath.Join(root, d); isDir(p) {
					if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
						return fmt.Errorf("%w: /%s: %v", ErrSandbox, d, err)
					}
				}
			}
			if c.hostFile != "" {
				p := filepath.Join(root, hostCmdMount)
				if err := unix.Mount(c.hostFile, p, "", unix.MS_BIND, ""); err != nil {
					return fmt.Errorf("%w: %s: %v", ErrSandbox, c.hostFile, err)
				}
				unix.Mount("", p, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Pdeathsig: syscall.SIGKILL}
			cmd.Dir = "/"
			return cmd.Run()
		}()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		// exec.CommandContext kills the process; wait for the goroutine.
		return <-errc
	}
}
