package etcmerge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrMerge wraps the errors of Merge.
var ErrMerge = errors.New("etcmerge: merge failed")

// Options configure Merge.
type Options struct {
	CopyOptions
	// OnMessage receives libostree's journal lines ("Copying /etc
	// changes: …", skipped special files).
	OnMessage func(string)
}

// Merge applies the local changes (origEtc → modifiedEtc) to newEtc, as
// libostree's merge_configuration_from does, and returns them.
func Merge(ctx context.Context, origEtc, modifiedEtc, newEtc string, opts Options) (*Changes, error) {
	c, err := Diff(ctx, origEtc, modifiedEtc)
	if err != nil {
		return nil, fmt.Errorf("While computing configuration diff: %w", err)
	}
	msg := func(format string, args ...any) {
		if opts.OnMessage != nil {
			opts.OnMessage(fmt.Sprintf(format, args...))
		}
	}
	msg("Copying /etc changes: %d modified, %d removed, %d added", len(c.Modified), len(c.Removed), len(c.Added))
	for _, d := range []string{origEtc, modifiedEtc, newEtc} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			if err == nil {
				err = unix.ENOTDIR
			}
			return nil, failf("opendir(%s): %w", d, err)
		}
	}
	for _, p := range c.Removed {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := os.RemoveAll(filepath.Join(newEtc, p)); err != nil {
			return nil, failf("%w", err)
		}
	}
	for _, list := range [][]string{c.Modified, c.Added} {
		for _, p := range list {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := copyModified(modifiedEtc, newEtc, p, opts.CopyOptions, msg); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// ensureDirFromTemplate creates newEtc/rel (and missing parents), giving
// each the owner, mode and xattrs of modifiedEtc/rel, existing or not.
func ensureDirFromTemplate(modifiedEtc, newEtc, rel string, o CopyOptions) error {
	src := filepath.Join(modifiedEtc, rel)
	if st, err := os.Stat(src); err != nil || !st.IsDir() {
		if err == nil {
			err = unix.ENOTDIR
		}
		return failf("opendir(%s): %w", rel, err)
	}
	dst := filepath.Join(newEtc, rel)
	for {
		err := unix.Mkdir(dst, 0o700)
		if err == nil || err == unix.EEXIST {
			break
		}
		if err == unix.ENOENT {
			if parent := path.Dir(rel); parent != "." {
				if err := ensureDirFromTemplate(modifiedEtc, newEtc, parent, o); err != nil {
					return err
				}
				continue
			}
			break
		}
		return failf("mkdirat: %w", err)
	}
	if st, err := os.Stat(dst); err != nil || !st.IsDir() {
		if err == nil {
			err = unix.ENOTDIR
		}
		return failf("opendir(%s): %w", rel, err)
	}
	if err := copyAttrs(src, dst, o); err != nil {
		return failf("%w", err)
	}
	return nil
}

// copyModified is copy_modified_config_file.
func copyModified(modifiedEtc, newEtc, rel string, o CopyOptions, msg func(string, ...any)) error {
	src, dst := filepath.Join(modifiedEtc, rel), filepath.Join(newEtc, rel)
	mst, err := os.Lstat(src)
	if err != nil {
		return failf("Reading modified config file: %w", err)
	}
	if strings.Contains(rel, "/") {
		if err := ensureDirFromTemplate(modifiedEtc, newEtc, path.Dir(rel), o); err != nil {
			return err
		}
	}
	nst, err := os.Lstat(dst)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return failf("fstatat: %w", err)
	case nst.IsDir():
		if !mst.IsDir() {
			return failf("Modified config file newly defaults to directory '%s', cannot merge", rel)
		}
		return nil // the directory itself is already there
	default:
		if err := os.Remove(dst); err != nil {
			return failf("%w", err)
		}
	}
	switch {
	case mst.IsDir():
		if err := CopyDir(src, dst, o); err != nil {
			return failf("%w", err)
		}
	case mst.Mode().IsRegular() || mst.Mode()&os.ModeSymlink != 0:
		if err := CopyFile(src, dst, o); err != nil {
			return failf("Copying %s: %w", rel, err)
		}
	default:
		msg("Ignoring non-regular/non-symlink file found during /etc merge: %s", rel)
	}
	return nil
}

// mergeError has libostree's message and matches ErrMerge.
type mergeError struct{ err error }

func (e *mergeError) Error() string   { return e.err.Error() }
func (e *mergeError) Unwrap() []error { return []error{ErrMerge, e.err} }

func failf(format string, args ...any) error {
	return &mergeError{fmt.Errorf(format, args...)}
}
