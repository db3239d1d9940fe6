package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/groveos/grove/core/rofiles"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

func init() { register(newRofilesCmd) }

// rofilesDaemonEnv marks the re-executed background process; its value is
// the descriptor on which it reports that the mount is ready.
const rofilesDaemonEnv = "GROVE_ROFILES_DAEMON_FD"

func newRofilesCmd() *cobra.Command {
	var (
		o          rofiles.Options
		foreground bool
		debug      bool
		mountOpts  []string
	)
	cmd := &cobra.Command{
		Use:   "rofiles [OPTION…] SOURCE MOUNTPOINT",
		Short: "Mount SOURCE at MOUNTPOINT with hardlinked files read-only (rofiles-fuse)",
		Long: `Makes SOURCE visible at MOUNTPOINT such that files are read-only and
directories are writable, like ostree's rofiles-fuse. A regular file or
symlink with more than one link (a repository object checked out by
hardlink) cannot be opened for writing, truncated, chmod'ed, chown'ed or
have its extended attributes changed: that fails with EROFS, or with
--copyup the hardlink is broken first by replacing the name with a copy.
New files can be created, written, renamed and removed.

The command returns once the file system is mounted and serves it from a
background process until "fusermount -u MOUNTPOINT"; -f stays in the
foreground.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, s := range mountOpts {
				if err := o.ParseMountOptions(s); err != nil {
					return err
				}
			}
			if debug {
				o.Debug = true
			}
			if o.Debug {
				foreground = true
				o.Logger = log.New(cmd.ErrOrStderr(), "", log.Lmicroseconds)
			}
			src, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			mnt, err := filepath.Abs(args[1])
			if err != nil {
				return err
			}
			if fd := os.Getenv(rofilesDaemonEnv); fd != "" {
				return rofilesDaemon(cmd.Context(), fd, src, mnt, o)
			}
			if foreground {
				srv, err := rofiles.Mount(src, mnt, o)
				if err != nil {
					return err
				}
				return rofilesServe(cmd.Context(), srv, cmd.ErrOrStderr())
			}
			// Report bad arguments from the calling process, then let
			// a detached copy of ourselves do the mount.
			if err := rofiles.Check(src, mnt); err != nil {
				return err
			}
			child := []string{"rofiles"}
			if o.Copyup {
				child = append(child, "--copyup")
			}
			for _, s := range mountOpts {
				child = append(child, "-o", s)
			}
			child = append(child, "--", src, mnt)
			return rofilesSpawn(child, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Copyup, "copyup", false, "break the hardlink of a file (copy it) instead of refusing to modify it")
	f.BoolVarP(&foreground, "foreground", "f", false, "stay in the foreground until unmounted")
	f.BoolVarP(&debug, "debug", "d", false, "log every FUSE request to stderr (implies -f)")
	f.StringArrayVarP(&mountOpts, "options", "o", nil, "mount options: allow_other, default_permissions, fsname=, entry_timeout=SECS, attr_timeout=SECS, copyup, debug, or kernel options")
	return cmd
}

// rofilesServe serves until the mount goes away; SIGINT/SIGTERM unmount it.
func rofilesServe(ctx context.Context, srv *rofiles.Server, stderr io.Writer) error {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			// Busy mounts stay up and keep being served.
			if err := srv.Unmount(); err != nil && stderr != nil {
				fmt.Fprintln(stderr, "error:", err)
			}
		case <-done:
		}
	}()
	srv.Wait()
	close(done)
	return nil
}

// rofilesSpawn starts the background server and waits until it reports
// that the mount is ready (a last line "ok") or why it failed. The server's
// stderr goes to the same pipe until then, so that messages of fusermount
// reach the user.
func rofilesSpawn(args []string, stderr io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the grove executable: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return err
	}
	defer null.Close()
	c := exec.Command(exe, args...)
	c.Env = append(os.Environ(), rofilesDaemonEnv+"=3")
	c.ExtraFiles = []*os.File{w} // descriptor 3
	c.Stdin, c.Stdout, c.Stderr = null, null, w
	c.Dir = "/"
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		w.Close()
		return fmt.Errorf("starting the rofiles server: %w", err)
	}
	w.Close()
	msg, _ := io.ReadAll(r)
	lines := strings.Split(strings.TrimRight(string(msg), "\n"), "\n")
	if last := len(lines) - 1; lines[last] == "ok" {
		for _, l := range lines[:last] {
			fmt.Fprintln(stderr, l)
		}
		return c.Process.Release()
	}
	werr := c.Wait()
	// The server printed its own error like any grove command; put that
	// first and what it relayed (fusermount's messages) after it.
	var main, rest []string
	for _, l := range lines {
		if m, ok := strings.CutPrefix(l, "error: "); ok {
			main = append(main, m)
		} else if strings.TrimSpace(l) != "" {
			rest = append(rest, l)
		}
	}
	if all := append(main, rest...); len(all) > 0 {
		return errors.New(strings.Join(all, "\n"))
	}
	return fmt.Errorf("rofiles server exited before mounting: %v", werr)
}

// rofilesDaemon is the background process: it mounts, reports on the
// descriptor named by fd, and serves until unmounted.
func rofilesDaemon(ctx context.Context, fd, src, mnt string, o rofiles.Options) error {
	os.Unsetenv(rofilesDaemonEnv)
	var n int
	if _, err := fmt.Sscan(fd, &n); err != nil {
		return fmt.Errorf("%s=%q: not a descriptor", rofilesDaemonEnv, fd)
	}
	ready := os.NewFile(uintptr(n), "rofiles-ready")
	srv, err := rofiles.Mount(src, mnt, o)
	if err != nil {
		ready.Close()
		return err // printed by main on our stderr, the parent's pipe
	}
	ready.WriteString("ok\n")
	// Detach stderr from the parent's pipe so that it sees end of file.
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		_ = unix.Dup2(int(null.Fd()), 2)
		null.Close()
	}
	ready.Close()
	return rofilesServe(ctx, srv, nil)
}
