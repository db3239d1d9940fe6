package etcmerge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/groveos/grove/core/inspect"
)

// Changes are the differences from one directory (a) to another (b),
// as ostree_diff_dirs reports them: paths relative to the roots, in
// directory order, directories and their contents listed separately.
type Changes struct {
	Modified []string // in both, different type, content, owner or mode
	Removed  []string // in a only
	Added    []string // in b only (for a new directory, it and all below it)
}

// Diff compares a with b, ignoring extended attributes.
func Diff(ctx context.Context, a, b string) (*Changes, error) {
	c := &Changes{}
	if err := diffDirs(ctx, a, b, "", c); err != nil {
		return nil, err
	}
	return c, nil
}

// readDirOrdered lists a directory in on-disk order, like readdir(3).
func readDirOrdered(dir string) ([]os.DirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

func join(rel, name string) string {
	if rel == "" {
		return name
	}
	return rel + "/" + name
}

func diffDirs(ctx context.Context, a, b, rel string, c *Changes) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ents, err := readDirOrdered(filepath.Join(a, rel))
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := join(rel, e.Name())
		ast, err := os.Lstat(filepath.Join(a, p))
		if err != nil {
			return err
		}
		bst, err := os.Lstat(filepath.Join(b, p))
		if errors.Is(err, os.ErrNotExist) {
			c.Removed = append(c.Removed, p)
			continue
		}
		if err != nil {
			return err
		}
		if ast.Mode().Type() != bst.Mode().Type() {
			c.Modified = append(c.Modified, p)
			continue
		}
		same, err := sameFile(ctx, filepath.Join(a, p), filepath.Join(b, p))
		if err != nil {
			return err
		}
		if !same {
			c.Modified = append(c.Modified, p)
		}
		if ast.IsDir() {
			if err := diffDirs(ctx, a, b, p, c); err != nil {
				return err
			}
		}
	}
	ents, err = readDirOrdered(filepath.Join(b, rel))
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := join(rel, e.Name())
		if _, err := os.Lstat(filepath.Join(a, p)); err == nil {
			continue
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		c.Added = append(c.Added, p)
		if e.IsDir() {
			if err := addRecurse(ctx, b, p, c); err != nil {
				return err
			}
		}
	}
	return nil
}

func addRecurse(ctx context.Context, b, rel string, c *Changes) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ents, err := readDirOrdered(filepath.Join(b, rel))
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := join(rel, e.Name())
		c.Added = append(c.Added, p)
		if e.IsDir() {
			if err := addRecurse(ctx, b, p, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// sameFile compares ostree checksums (content, owner, mode; no xattrs).
func sameFile(ctx context.Context, a, b string) (bool, error) {
	ca, err := inspect.ChecksumPath(ctx, a, true)
	if err != nil {
		return false, fmt.Errorf("etcmerge: %w", err)
	}
	cb, err := inspect.ChecksumPath(ctx, b, true)
	if err != nil {
		return false, fmt.Errorf("etcmerge: %w", err)
	}
	return ca == cb, nil
}
