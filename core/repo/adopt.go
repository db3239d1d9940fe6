package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/groveos/grove/core/oid"
	"golang.org/x/sys/unix"
)

// AdoptFrom stages an object of another repository of the same mode as it
// is stored there, by hardlink when both are on one filesystem, else by
// copy for archive objects (whose files carry everything), without
// verifying it: it is for trusted sources. It reports false when neither
// is possible (other modes, other filesystems, the object only in src's
// parent), and the caller must import the object by content.
func (tx *Txn) AdoptFrom(ctx context.Context, from *Repo, name oid.ObjectName) (bool, error) {
	if from.Mode() != tx.r.Mode() {
		return false, nil
	}
	src := from.ObjectPath(name)
	dst := tx.stagePath(name)
	err := unix.Linkat(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, 0)
	switch {
	case err == nil || errors.Is(err, unix.EEXIST):
	case tx.r.Mode() == ModeArchive && (errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EMLINK) || errors.Is(err, unix.EPERM)):
		if err := copyFile(src, dst); err != nil {
			return false, fmt.Errorf("repo: adopt %s: %w", name, err)
		}
	case errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EMLINK) || errors.Is(err, unix.EPERM):
		return false, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("repo: adopt %s: %w", name, err)
	}
	tx.markStaged(name, 0)
	return true, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}
