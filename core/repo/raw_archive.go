package repo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/oid"
)

// WriteArchiveRaw stages a content object of an archive repository from
// its .filez bytes as they come (a pull from an archive remote keeps the
// server's compressed bytes: nothing is inflated and deflated again).
// write copies the bytes into the writer it is given and checks them on
// the way (the checksum of the inflated stream, the declared size); only
// when it returns nil is the object kept. It is skipped if present.
func (tx *Txn) WriteArchiveRaw(ctx context.Context, sum oid.Checksum, write func(w io.Writer) error) error {
	name := oid.ObjectName{Checksum: sum, Type: oid.File}
	if tx.r.Mode() != ModeArchive {
		return fmt.Errorf("%w: raw .filez bytes for a %s repository", ErrReadOnly, tx.r.Mode())
	}
	if tx.stagedHere(name) {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, err := tx.createTmp()
	if err != nil {
		return fmt.Errorf("repo: write %s: %w", name, err)
	}
	defer tmp.discard()
	bw := bufWriters.Get().(*bufio.Writer)
	bw.Reset(fdWriter(tmp.fd))
	defer bufWriters.Put(bw)
	cw := &fsutil.CountingWriter{W: bw}
	if err := write(cw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("repo: write %s: %w", name, err)
	}
	if tx.r.Fsync() && cw.N >= writebackMin {
		startWriteback(tmp.fd)
	}
	if !tmp.mode644 {
		if err := tx.finishContent(tmp.fd, nil); err != nil {
			return fmt.Errorf("repo: write %s: %w", name, err)
		}
	}
	if err := tmp.linkTo(tx.stagePath(name)); err != nil {
		return fmt.Errorf("repo: write %s: %w", name, err)
	}
	tx.markStaged(name, cw.N)
	return nil
}

// OpenRawArchive opens an archive repository's stored .filez bytes of a
// content object as they are (for a pull into another archive repository,
// which keeps them after checking them). Missing objects are ErrNotFound;
// the parent repository is consulted.
func (r *Repo) OpenRawArchive(ctx context.Context, sum oid.Checksum) (io.ReadCloser, error) {
	name := oid.ObjectName{Checksum: sum, Type: oid.File}
	if r.Mode() != ModeArchive {
		return nil, fmt.Errorf("%w: %s is not an archive repository", ErrReadOnly, r.path)
	}
	f, err := os.Open(r.ObjectPath(name))
	if err == nil {
		return f, nil
	}
	if isNotExist(err) && r.parent != nil {
		return r.parent.OpenRawArchive(ctx, sum)
	}
	if isNotExist(err) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return nil, fmt.Errorf("repo: open %s: %w", name, err)
}

// ArchivePath is where an object lives relative to an archive
// repository's root, "objects/XX/REST.ext" (".filez" for content): the
// path a static server serves it under and HTTP pulls ask for.
func ArchivePath(name oid.ObjectName) string {
	hex := name.Checksum.String()
	ext := name.Type.String()
	if name.Type == oid.File {
		ext = "filez"
	}
	return "objects/" + hex[:2] + "/" + hex[2:] + "." + ext
}

// publishedTop are the top-level entries of a repository that pulls read.
var publishedTop = map[string]bool{
	"config": true, "summary": true, "summary.sig": true,
	"refs": true, "objects": true, "deltas": true, "delta-indexes": true,
}

// Published reports whether a clean repository-relative path is one a
// server publishes for pulls: config, summary, summary.sig and what is
// under refs/, objects/, deltas/ and delta-indexes/ (not tmp/, state/,
// the lock or keyrings).
func Published(rel string) bool {
	top, _, _ := strings.Cut(rel, "/")
	return rel != "" && publishedTop[top]
}

// Immutable reports whether a published path is named by its content
// (objects and static deltas), so that its bytes never change.
func Immutable(rel string) bool {
	top, _, _ := strings.Cut(rel, "/")
	return top == "objects" || top == "deltas"
}
