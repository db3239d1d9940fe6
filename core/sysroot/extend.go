package sysroot

import (
	"fmt"
	"os"
)

// What packages building on a sysroot (admin operations) need beyond the
// load/write API; none of it is needed to read a sysroot.

// Errorf formats an error with libostree's wording that also matches kind
// (one of this package's sentinels) with errors.Is.
func Errorf(kind error, format string, args ...any) error { return errf(kind, format, args...) }

// Debug is the sysroot's $OSTREE_SYSROOT_DEBUG.
func (s *Sysroot) Debug() Debug { return s.debug }

// Abs joins a sysroot-relative path to the sysroot path.
func (s *Sysroot) Abs(rel string) string { return s.abs(rel) }

// Messagef sends a journal line to Options.OnMessage.
func (s *Sysroot) Messagef(format string, args ...any) { s.msg(format, args...) }

// MessageFunc is Options.OnMessage (may be nil).
func (s *Sysroot) MessageFunc() func(string) { return s.onMsg }

// Warningf sends a line to Options.OnWarning.
func (s *Sysroot) Warningf(format string, args ...any) {
	if s.onWarn != nil {
		s.onWarn(fmt.Sprintf(format, args...))
	}
}

// DeploymentDirs lists the deployment directories of a stateroot, in
// directory order (Index, Boot and Origin unset).
func (s *Sysroot) DeploymentDirs(stateroot string) ([]*Deployment, error) {
	return s.listStaterootDirs(stateroot)
}

// SetMutable clears (mutable) or sets the immutable attribute of a
// deployment directory, like ostree_sysroot_deployment_set_mutable.
func (s *Sysroot) SetMutable(d *Deployment, mutable bool) error {
	f, err := os.Open(s.abs(d.Dir()))
	if err != nil {
		return fmt.Errorf("opendir(%s): %w", d.Dir(), unwrapPathErr(err))
	}
	defer f.Close()
	return setImmutable(int(f.Fd()), !mutable)
}

// RemoveDeploymentDir deletes a deployment directory and its origin
// (never the running root's).
func (s *Sysroot) RemoveDeploymentDir(d *Deployment) error { return s.rmDeployment(d) }

// RunstatePath is Env.Run/ostree/deployment-state/CSUM.SERIAL/key.
func (s *Sysroot) RunstatePath(d *Deployment, key string) string { return s.runstatePath(d, key) }

// BumpMtime touches ostree/deploy so that watchers notice a change.
func (s *Sysroot) BumpMtime() error { return s.bumpMtime() }

// ErrnoText reduces an *os.PathError to its errno, worded as strerror
// (libostree's "opendir(var): No such file or directory").
func ErrnoText(err error) error { return unwrapPathErr(err) }

// RemotesRoot is the sysroot whose etc/ostree/remotes.d holds the system
// repository's remotes, as libostree decides: a booted sysroot, or one
// that contains a "sysroot" directory (a deployment's view); "" for a
// physical sysroot opened with --sysroot, whose remotes live in
// ostree/repo/config.
func (s *Sysroot) RemotesRoot() string {
	if s.bootedDep != nil {
		return s.path
	}
	if st, err := os.Stat(s.abs("sysroot")); err == nil && st.IsDir() {
		return s.path
	}
	return ""
}
