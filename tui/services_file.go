package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sync"

	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/views"
)

// errSymlinkLoop: a symlink chain inside a commit that never ends at a file.
var errSymlinkLoop = errors.New("too many levels of symbolic links")

// resolveFile looks path up in commit, following symlinks inside the
// commit (as ostree's file reads do); it returns the entry at path and the
// regular file it leads to.
func (s *Services) resolveFile(ctx context.Context, commit oid.Checksum, p string) (at, file *inspect.Entry, err error) {
	root, err := inspect.Root(ctx, s.Repo, commit)
	if err != nil {
		return nil, nil, err
	}
	e, err := inspect.Lookup(ctx, s.Repo, root, p)
	if err != nil {
		return nil, nil, err
	}
	at = e
	for hops := 0; e.IsSymlink(); hops++ {
		if hops == 40 {
			return nil, nil, fmt.Errorf("%s: %w", p, errSymlinkLoop)
		}
		t := e.Target
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(e.Path), t)
		}
		if e, err = inspect.Lookup(ctx, s.Repo, root, path.Clean(t)); err != nil {
			return nil, nil, fmt.Errorf("%s: dangling symlink: %w", p, err)
		}
	}
	if e.IsDir() {
		return nil, nil, fmt.Errorf("%s is a directory", p)
	}
	return at, e, nil
}

// StatFile implements views.FileSource.
func (s *Services) StatFile(ctx context.Context, commit oid.Checksum, p string) (views.FileInfo, error) {
	at, f, err := s.resolveFile(ctx, commit, p)
	if err != nil {
		return views.FileInfo{}, err
	}
	return views.FileInfo{Path: p, Mode: at.Mode, UID: at.UID, GID: at.GID, Size: f.Size,
		Checksum: at.Checksum, Target: at.Target, Xattrs: at.Xattrs}, nil
}

// fileStream is the one payload stream kept open per Services: archive
// objects are deflated and cannot seek, so reads continue from where the
// last one stopped (the viewer reads forward) and reopen only to go back.
type fileStream struct {
	mu     sync.Mutex
	key    string
	sum    oid.Checksum
	plain  readerAtCloser // bare modes: the object's payload, read with ReadAt
	stream io.ReadCloser
	pos    int64
}

var streams sync.Map // *Services → *fileStream

func (fs *fileStream) closeLocked() {
	if fs.plain != nil {
		fs.plain.Close()
	}
	if fs.stream != nil {
		fs.stream.Close()
	}
	fs.plain, fs.stream, fs.pos = nil, nil, 0
}

type readerAtCloser interface {
	io.ReaderAt
	io.Closer
}

// ReadFileAt implements views.FileSource with memory bounded by n.
func (s *Services) ReadFileAt(ctx context.Context, commit oid.Checksum, p string, off int64, n int) ([]byte, error) {
	v, _ := streams.LoadOrStore(s, &fileStream{})
	fs := v.(*fileStream)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	key := commit.String() + ":" + p
	if fs.key != key {
		fs.closeLocked()
		_, f, err := s.resolveFile(ctx, commit, p)
		if err != nil {
			return nil, err
		}
		fs.key, fs.sum = key, f.Checksum
	}
	if fs.plain == nil && (fs.stream == nil || off < fs.pos) {
		fs.closeLocked()
		c, err := s.Repo.OpenContent(ctx, fs.sum)
		if err != nil {
			fs.key = ""
			return nil, err
		}
		if ra, ok := c.ReadCloser.(readerAtCloser); ok {
			fs.plain = ra
		} else {
			fs.stream = c
		}
	}
	buf := make([]byte, n)
	if fs.plain != nil {
		m, err := fs.plain.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return buf[:m], nil
	}
	if skip := off - fs.pos; skip > 0 {
		k, err := io.CopyN(io.Discard, fs.stream, skip)
		fs.pos += k
		if err != nil && !errors.Is(err, io.EOF) {
			fs.key = ""
			return nil, err
		}
	}
	m, err := io.ReadFull(fs.stream, buf)
	fs.pos += int64(m)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		fs.key = ""
		return nil, err
	}
	return buf[:m], nil
}
