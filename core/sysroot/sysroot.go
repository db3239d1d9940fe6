package sysroot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/groveos/grove/core/repo"
	"golang.org/x/sys/unix"
)

// Errors returned by this package. Most errors carry libostree's wording
// and wrap one of these, so callers can test with errors.Is.
var (
	ErrNotSysroot = errors.New("sysroot: not an OSTree sysroot")
	ErrCorrupt    = errors.New("sysroot: corrupt sysroot")
	ErrNotBooted  = errors.New("sysroot: not booted into an OSTree system")
	ErrNoKernel   = errors.New("sysroot: no kernel in tree")
	ErrInvalid    = errors.New("sysroot: invalid request")
	ErrBooted     = errors.New("sysroot: refusing to remove the booted deployment")
)

// Env names the host paths a sysroot is judged against. A zero field means
// the real host's; tests point them into a temporary directory to play a
// booted machine.
type Env struct {
	// Root is the running system's root ("/"). The sysroot is booted when
	// Run/ostree-booted exists and the sysroot path has Root's dev/ino; the
	// booted deployment is the one whose directory has Root's dev/ino, and
	// Root/var is the booted stateroot's /var.
	Root string
	// Run holds ostree-booted, ostree/staged-deployment and
	// ostree/deployment-state/ ("/run").
	Run string
	// ProcCmdline is read by --karg-proc-cmdline ("/proc/cmdline").
	ProcCmdline string
}

func (e Env) withDefaults() Env {
	if e.Root == "" {
		e.Root = "/"
	}
	if e.Run == "" {
		e.Run = "/run"
	}
	if e.ProcCmdline == "" {
		e.ProcCmdline = "/proc/cmdline"
	}
	return e
}

// Debug are libostree's $OSTREE_SYSROOT_DEBUG flags.
type Debug struct {
	// MutableDeployments skips the immutable attribute on deployment
	// directories ("mutable-deployments").
	MutableDeployments bool
	// NoXattrs copies files without extended attributes ("no-xattrs").
	NoXattrs bool
	// NoDTB ignores device trees ("no-dtb").
	NoDTB bool
}

// ParseDebug reads a comma- or space-separated $OSTREE_SYSROOT_DEBUG.
func ParseDebug(s string) Debug {
	var d Debug
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ':' || r == ';' }) {
		switch f {
		case "mutable-deployments":
			d.MutableDeployments = true
		case "no-xattrs":
			d.NoXattrs = true
		case "no-dtb":
			d.NoDTB = true
		case "all":
			d = Debug{true, true, true}
		}
	}
	return d
}

// Options configure Open.
type Options struct {
	Env   Env
	Debug Debug
	// OnMessage receives what libostree logs to its journal and
	// `ostree admin` prints ("Copying /etc changes: …").
	OnMessage func(string)
	// OnWarning receives what `ostree admin` prints on stderr ("note: …").
	OnWarning func(string)
	// Lock takes the sysroot lock before loading (see Lock); OnLockWait
	// is called while another process holds it.
	Lock       bool
	OnLockWait func()
}

// Sysroot is an open sysroot with its deployment list loaded.
type Sysroot struct {
	path   string
	env    Env
	debug  Debug
	onMsg  func(string)
	onWarn func(string)
	repo   *repo.Repo
	rootSt unix.Stat_t

	booted       bool // the sysroot is the running system's
	bootversion  int
	subboot      int
	deployments  []*Deployment
	bootedDep    *Deployment
	stagedDep    *Deployment
	lock         *lockFile
	loaderExists bool
}

// Path is the sysroot directory.
func (s *Sysroot) Path() string { return s.path }

// Repo is the system repository, ostree/repo.
func (s *Sysroot) Repo() *repo.Repo { return s.repo }

// Env is the host view the sysroot was opened with.
func (s *Sysroot) Env() Env { return s.env }

// Bootversion is N of boot/loader -> loader.N.
func (s *Sysroot) Bootversion() int { return s.bootversion }

// Subbootversion is M of ostree/boot.N -> boot.N.M.
func (s *Sysroot) Subbootversion() int { return s.subboot }

// Deployments lists the deployments in boot order (index 0 is the default).
func (s *Sysroot) Deployments() []*Deployment { return append([]*Deployment(nil), s.deployments...) }

// IsBooted reports whether the sysroot is the running system's.
func (s *Sysroot) IsBooted() bool { return s.booted }

// Booted is the running deployment, nil when offline.
func (s *Sysroot) Booted() *Deployment { return s.bootedDep }

// Staged is the deployment staged for the next shutdown, or nil.
func (s *Sysroot) Staged() *Deployment { return s.stagedDep }

func (s *Sysroot) msg(format string, args ...any) {
	if s.onMsg != nil {
		s.onMsg(fmt.Sprintf(format, args...))
	}
}

func (s *Sysroot) abs(rel string) string { return filepath.Join(s.path, rel) }

// Open opens the sysroot at path and loads its deployments, as
// ostree_sysroot_load does. Writers take the lock first (Options.Lock, or
// Lock then Load) and Unlock when done.
func Open(ctx context.Context, path string, opts Options) (*Sysroot, error) {
	s := &Sysroot{path: path, env: opts.Env.withDefaults(), debug: opts.Debug, onMsg: opts.OnMessage, onWarn: opts.OnWarning}
	if err := s.initialize(); err != nil {
		return nil, err
	}
	if err := s.openRepo(ctx); err != nil {
		return nil, err
	}
	if opts.Lock {
		if err := s.checkWritable(); err != nil {
			return nil, err
		}
		if err := s.Lock(ctx, opts.OnLockWait); err != nil {
			return nil, err
		}
	}
	if err := s.Load(ctx); err != nil {
		s.Unlock()
		return nil, err
	}
	return s, nil
}

// initialize learns whether the sysroot is the booted one (§9.6 step 6).
func (s *Sysroot) initialize() error {
	var st unix.Stat_t
	err := unix.Stat(s.path, &st)
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		err = unix.ENOTDIR
	}
	if err != nil {
		return errf(ErrNotSysroot, "opendir(%s): %w", s.path, errnoText{err})
	}
	if err := unix.Stat(s.env.Root, &s.rootSt); err != nil {
		return fmt.Errorf("sysroot: stat %s: %w", s.env.Root, err)
	}
	_, err = os.Stat(filepath.Join(s.env.Run, "ostree-booted"))
	s.booted = err == nil && st.Dev == s.rootSt.Dev && st.Ino == s.rootSt.Ino
	return nil
}

func (s *Sysroot) openRepo(ctx context.Context) error {
	p := s.abs("ostree/repo")
	if _, err := os.Stat(p); err != nil {
		return errf(ErrNotSysroot, "loading sysroot: opendir(ostree/repo): %w", unwrapPathErr(err))
	}
	r, err := repo.Open(ctx, p)
	if err != nil {
		return errf(ErrNotSysroot, "loading sysroot: %w", err)
	}
	// Like ostree_repo_open, make sure tmp/cache exists.
	os.MkdirAll(filepath.Join(p, "tmp", "cache"), 0o755)
	s.repo = r
	return nil
}

// unwrapPathErr turns "stat /x: no such file or directory" into the
// strerror text libostree prints.
func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return errnoText{pe.Err}
	}
	return err
}

type errnoText struct{ err error }

func (e errnoText) Error() string {
	var no unix.Errno
	if errors.As(e.err, &no) {
		s := no.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return e.err.Error()
}
func (e errnoText) Unwrap() error { return e.err }

// checkWritable refuses a read-only sysroot or /boot up front. libostree
// remounts them read-write in a private mount namespace on a booted
// machine; Grove does not (a Go process cannot keep every thread in one
// namespace), so it says what to do instead.
func (s *Sysroot) checkWritable() error {
	for _, p := range []string{s.abs("ostree"), s.abs("boot")} {
		if err := unix.Access(p, unix.W_OK); err == unix.EROFS {
			return errf(ErrInvalid, "%s is on a read-only file system; remount it read-write (mount -o remount,rw) and try again", p)
		}
	}
	return nil
}
