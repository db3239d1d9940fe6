package fsck

import (
	"context"
	"crypto/sha256"
	"hash"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Fast paths for the objects of a sound repository. Each one either
// proves the object good or gives up, and then the object is checked
// again by the general code (Object), whose verdict and error text are
// the ones reported: the fast paths never produce an error themselves.

// fastStore is fsck's handle on the repository's objects/ for the fast
// paths (repo.ObjectDir); dir is nil when they are off.
type fastStore struct {
	r   *repo.Repo
	dir *repo.ObjectDir
	// sizes: stat content objects when found, to start the largest
	// first. Worth its system call per object only in archive
	// repositories, where one large file inflates for a tenth of a
	// second; hashing a bare-user one is fast enough.
	sizes bool
}

func newFastStore(r *repo.Repo, fast bool) *fastStore {
	fs := &fastStore{r: r}
	if !fast {
		return fs
	}
	d, err := r.OpenObjectDir()
	if err != nil {
		return fs
	}
	fs.dir, fs.sizes = d, r.Mode() == repo.ModeArchive
	return fs
}

func (fs *fastStore) close() {
	if fs.dir != nil {
		fs.dir.Close()
	}
}

// checker is one worker's reusable state.
type checker struct {
	fs *fastStore
	h  hash.Hash
	br *repo.BulkReader // nil: fast paths off
}

func (fs *fastStore) newWorker() *checker {
	c := &checker{fs: fs, h: sha256.New()}
	if fs.dir != nil {
		c.br = fs.dir.NewBulkReader()
	}
	return c
}

// check verifies one object like Object does; for a dirtree that decodes
// it also returns the tree, so that the walk expands it (even when its
// checksum is wrong, like ostree's traversal does).
//
// size is the object file's size from c.size (-1 when unknown).
func (c *checker) check(ctx context.Context, name oid.ObjectName, size int64) (*object.DirTree, error) {
	r := c.fs.r
	switch name.Type {
	case oid.File:
		if c.fastContent(name, size) {
			return nil, nil
		}
		return nil, checkContent(ctx, r, name)
	case oid.DirTree, oid.DirMeta:
		if b, ok := c.readMeta(name); ok && oid.Checksum(sha256.Sum256(b)) == name.Checksum {
			if name.Type == oid.DirMeta {
				if _, err := object.UnmarshalDirMeta(b); err == nil {
					return nil, nil
				}
			} else if t, err := object.UnmarshalDirTree(b); err == nil {
				return t, nil
			}
		}
		err := Object(ctx, r, name)
		if name.Type == oid.DirTree {
			if t, lerr := r.LoadDirTree(ctx, name.Checksum); lerr == nil {
				return t, err
			}
		}
		return nil, err
	}
	return nil, Object(ctx, r, name)
}

// size is the size of a content object's file if it is a regular file of
// this repository (not a parent's), else -1.
func (c *checker) size(name oid.ObjectName) int64 {
	if c.br == nil {
		return -1
	}
	return c.br.Size(name)
}

// readMeta reads a metadata object fast, or gives up.
func (c *checker) readMeta(name oid.ObjectName) ([]byte, bool) {
	if c.br == nil {
		return nil, false
	}
	return c.br.ReadMeta(name)
}

// fastContent proves a content object good, or gives up.
func (c *checker) fastContent(name oid.ObjectName, size int64) bool {
	if c.br == nil || !c.br.HashContent(name, size, c.h) {
		return false
	}
	var sum oid.Checksum
	c.h.Sum(sum[:0])
	return sum == name.Checksum
}
