package rofiles

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// DevFuse is the device the mount needs.
var DevFuse = "/dev/fuse"

// Options configures a mount.
type Options struct {
	// Copyup breaks hardlinks instead of failing writes with EROFS.
	Copyup bool

	// EntryTimeout and AttrTimeout are how long the kernel may cache
	// names and attributes. Zero (the default) caches nothing, so a name
	// renamed or replaced directly in SOURCE, or a hardlink broken by
	// copyup, is never seen stale through the mount.
	EntryTimeout, AttrTimeout time.Duration

	// AllowOther lets users other than the mounting one access the
	// mount. Mount turns it (and DefaultPermissions) on when running as
	// root, so the mount is usable by every user with the kernel
	// checking permissions.
	AllowOther bool
	// DefaultPermissions makes the kernel check access against the
	// file modes and owners.
	DefaultPermissions bool

	// FsName is shown as the source in /proc/mounts; default SOURCE.
	FsName string
	// Extra are further mount options for the kernel/fusermount.
	Extra []string

	// Debug logs every FUSE request to Logger.
	Debug  bool
	Logger *log.Logger
}

// ParseMountOptions applies a comma-separated -o option string, as
// rofiles-fuse accepts it: allow_other, default_permissions, fsname=,
// entry_timeout= / attr_timeout= (seconds), copyup, debug; anything else is
// handed to the kernel as a mount option.
func (o *Options) ParseMountOptions(s string) error {
	for _, opt := range strings.Split(s, ",") {
		opt = strings.TrimSpace(opt)
		if opt == "" {
			continue
		}
		key, val, hasVal := strings.Cut(opt, "=")
		switch key {
		case "allow_other":
			o.AllowOther = true
		case "default_permissions":
			o.DefaultPermissions = true
		case "copyup":
			o.Copyup = true
		case "debug":
			o.Debug = true
		case "fsname":
			o.FsName = val
		case "entry_timeout", "attr_timeout":
			if !hasVal {
				return fmt.Errorf("mount option %q needs a value in seconds", key)
			}
			secs, err := strconv.ParseFloat(val, 64)
			if err != nil || secs < 0 {
				return fmt.Errorf("mount option %s=%s: not a number of seconds", key, val)
			}
			d := time.Duration(secs * float64(time.Second))
			if key == "entry_timeout" {
				o.EntryTimeout = d
			} else {
				o.AttrTimeout = d
			}
		case "rw", "ro":
			if key == "ro" {
				return errors.New("mount option ro is not supported: rofiles mounts are writable")
			}
		default:
			o.Extra = append(o.Extra, opt)
		}
	}
	return nil
}

// Check validates a mount before it is attempted and returns an error that
// names the offending path: SOURCE must be a directory, MOUNTPOINT an empty
// directory, /dev/fuse must exist, and a non-root user needs fusermount3 or
// fusermount (root mounts with mount(2) directly).
func Check(source, mountpoint string) error {
	st, err := os.Stat(source)
	if err != nil {
		return fmt.Errorf("source %s: %w", source, unwrapPath(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("source %s: not a directory", source)
	}
	mt, err := os.Stat(mountpoint)
	if err != nil {
		return fmt.Errorf("mount point %s: %w", mountpoint, unwrapPath(err))
	}
	if !mt.IsDir() {
		return fmt.Errorf("mount point %s: not a directory", mountpoint)
	}
	f, err := os.Open(mountpoint)
	if err != nil {
		return fmt.Errorf("mount point %s: %w", mountpoint, unwrapPath(err))
	}
	names, err := f.Readdirnames(1)
	f.Close()
	if err != nil && err != io.EOF {
		return fmt.Errorf("mount point %s: %w", mountpoint, unwrapPath(err))
	}
	if len(names) > 0 {
		return fmt.Errorf("mount point %s: directory not empty", mountpoint)
	}
	if sameFile(source, mountpoint) {
		return fmt.Errorf("mount point %s: is the source directory itself", mountpoint)
	}
	if err := checkDevFuse(); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		if _, err := Fusermount(); err != nil {
			return err
		}
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func checkDevFuse() error {
	st, err := os.Stat(DevFuse)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s: no such device: the fuse kernel module is not loaded, or this container was started without --device /dev/fuse", DevFuse)
		}
		return fmt.Errorf("%s: %w", DevFuse, unwrapPath(err))
	}
	if st.Mode()&os.ModeCharDevice == 0 {
		return fmt.Errorf("%s: not a character device", DevFuse)
	}
	return nil
}

// fusermountFallback is where go-fuse looks for fusermount when $PATH has
// none.
var fusermountFallback = "/bin"

// Fusermount returns the path of fusermount3, or else fusermount, looked up
// in $PATH and /bin like go-fuse does.
func Fusermount() (string, error) {
	for _, name := range []string{"fusermount3", "fusermount"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		if p := filepath.Join(fusermountFallback, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("fusermount3 or fusermount: not found in $PATH or /bin (install the fuse3 package)")
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Server is a mounted rofiles file system.
type Server struct {
	srv        *fuse.Server
	Source     string
	Mountpoint string
}

// Wait blocks until the file system is unmounted (fusermount -u, umount,
// or Unmount).
func (s *Server) Wait() { s.srv.Wait() }

// Unmount unmounts the file system; Wait then returns.
func (s *Server) Unmount() error {
	err := s.srv.Unmount()
	if err != nil {
		return fmt.Errorf("unmounting %s: %w", s.Mountpoint, err)
	}
	return nil
}
