package sysroot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/groveos/grove/core/repo"
	"golang.org/x/sys/unix"
)

// InitFSOptions configure InitFS.
type InitFSOptions struct {
	// Modern creates only boot/ and ostree/ (--modern).
	Modern bool
}

// InitFS makes path a sysroot like `ostree admin init-fs`: the
// traditional top-level directories (unless Modern), then ostree/repo (a
// bare repository) and ostree/deploy. path must exist.
func InitFS(ctx context.Context, path string, opts InitFSOptions) error {
	if st, err := os.Stat(path); err != nil {
		return fmt.Errorf("opendir(%s): %w", path, unwrapPathErr(err))
	} else if !st.IsDir() {
		return fmt.Errorf("opendir(%s): %w", path, errnoText{unix.ENOTDIR})
	}
	if err := os.MkdirAll(filepath.Join(path, "boot"), 0o755); err != nil {
		return err
	}
	if !opts.Modern {
		for _, d := range []string{"boot", "dev", "home", "proc", "run", "sys"} {
			if err := os.MkdirAll(filepath.Join(path, d), 0o755); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(filepath.Join(path, "root"), 0o700); err != nil {
			return err
		}
		tmp := filepath.Join(path, "tmp")
		if err := os.MkdirAll(tmp, 0o777); err != nil {
			return err
		}
		if err := os.Chmod(tmp, 0o777|os.ModeSticky); err != nil {
			return fmt.Errorf("chmod: tmp: %w", err)
		}
	}
	return ensureInitialized(ctx, path)
}

// ensureInitialized creates ostree/repo (bare) and ostree/deploy.
func ensureInitialized(ctx context.Context, path string) error {
	for _, d := range []string{"ostree/repo", "ostree/deploy"} {
		if err := os.MkdirAll(filepath.Join(path, d), 0o755); err != nil {
			return err
		}
	}
	if _, err := repo.Create(ctx, filepath.Join(path, "ostree/repo"), repo.CreateOptions{Mode: repo.ModeBare}); err != nil {
		return err
	}
	return nil
}

// InitStateroot creates ostree/deploy/NAME with its shared /var, like
// `ostree admin os-init` (`stateroot-init`): var/{tmp (1777), lib, log} and
// the var/run -> ../run, var/lock -> ../run/lock links. It fails when the
// stateroot exists.
func (s *Sysroot) InitStateroot(ctx context.Context, name string) error {
	if err := ensureInitialized(ctx, s.path); err != nil {
		return err
	}
	if name == "" || name == "." || name == ".." || filepath.Base(name) != name {
		return errf(ErrInvalid, "invalid stateroot name '%s'", name)
	}
	base := "ostree/deploy/" + name
	steps := []struct {
		what string
		do   func() error
	}{
		{base, func() error { return os.Mkdir(s.abs(base), 0o777) }},
		{"var", func() error { return os.Mkdir(s.abs(base+"/var"), 0o777) }},
		{"var/tmp", func() error { return os.Mkdir(s.abs(base+"/var/tmp"), 0o777) }},
		{"var/tmp", func() error { return os.Chmod(s.abs(base+"/var/tmp"), 0o777|os.ModeSticky) }},
		{"var/lib", func() error { return os.Mkdir(s.abs(base+"/var/lib"), 0o777) }},
		{"var/log", func() error { return os.Mkdir(s.abs(base+"/var/log"), 0o755) }},
		{"var/run", func() error { return os.Symlink("../run", s.abs(base+"/var/run")) }},
		{"var/lock", func() error { return os.Symlink("../run/lock", s.abs(base+"/var/lock")) }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			return fmt.Errorf("Creating %s: %w", st.what, unwrapPathErr(err))
		}
	}
	return s.bumpMtime()
}

// bumpMtime touches ostree/deploy so watchers notice a change.
func (s *Sysroot) bumpMtime() error {
	now := time.Now()
	if err := os.Chtimes(s.abs("ostree/deploy"), now, now); err != nil {
		return fmt.Errorf("futimens: %w", err)
	}
	return nil
}
