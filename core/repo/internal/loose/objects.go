package loose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"strings"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/klauspost/compress/flate"
	"golang.org/x/sys/unix"
)

// MetaXattr holds a bare-user object's real uid, gid, mode and xattrs.
const MetaXattr = "user.ostreemeta"

// ObjectRel is an object's path relative to objects/: XX/REST.ext, with
// ".filez" for content in archive repositories.
func (s *Store) ObjectRel(name oid.ObjectName) string {
	hex := name.Checksum.String()
	ext := name.Type.String()
	if name.Type == oid.File && s.mode == ModeArchive {
		ext = "filez"
	}
	return hex[:2] + "/" + hex[2:] + "." + ext
}

// ObjectPath is the loose file of name in this repository (it may not
// exist). It is for tests that damage objects on purpose and for
// diagnostics: engine code outside this package reads and writes objects
// through Repo's readers, ObjectDir and Txn, never by path (archtest
// holds it to that).
func (s *Store) ObjectPath(name oid.ObjectName) string {
	return filepath.Join(s.path, "objects", s.ObjectRel(name))
}

// HasObject reports whether name is stored here or in a parent repository.
func (s *Store) HasObject(ctx context.Context, name oid.ObjectName) (bool, error) {
	_, err := os.Lstat(s.ObjectPath(name))
	if err == nil {
		return true, nil
	}
	if !IsNotExist(err) {
		return false, fmt.Errorf("repo: %s: %w", name, err)
	}
	if s.parent != nil {
		return s.parent.HasObject(ctx, name)
	}
	return false, nil
}

// ReadMeta returns a metadata object's raw bytes without verifying them.
// It reads through a raw descriptor (open, fstat, read, close: half the
// system calls of os.ReadFile); anything unusual (missing, a parent
// repository, errors) goes the general way, whose errors are reported.
func (s *Store) ReadMeta(ctx context.Context, typ oid.ObjectType, sum oid.Checksum) ([]byte, error) {
	name := oid.ObjectName{Checksum: sum, Type: typ}
	if b, ok := s.readMetaRaw(name); ok {
		return b, nil
	}
	b, err := os.ReadFile(s.ObjectPath(name))
	if err == nil {
		return b, nil
	}
	if !IsNotExist(err) {
		return nil, fmt.Errorf("repo: read %s: %w", name, err)
	}
	if s.parent != nil {
		return s.parent.ReadMeta(ctx, typ, sum)
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
}

// LoadCommit reads and parses a commit object.
func (s *Store) LoadCommit(ctx context.Context, sum oid.Checksum) (*object.Commit, error) {
	b, err := s.ReadMeta(ctx, oid.Commit, sum)
	if err != nil {
		return nil, err
	}
	c, err := object.UnmarshalCommit(b)
	if err != nil {
		return nil, fmt.Errorf("%s.commit: %w", sum, err)
	}
	return c, nil
}

// LoadDirTree reads and parses a dirtree object.
func (s *Store) LoadDirTree(ctx context.Context, sum oid.Checksum) (*object.DirTree, error) {
	b, err := s.ReadMeta(ctx, oid.DirTree, sum)
	if err != nil {
		return nil, err
	}
	t, err := object.UnmarshalDirTree(b)
	if err != nil {
		return nil, fmt.Errorf("%s.dirtree: %w", sum, err)
	}
	return t, nil
}

// LoadDirMeta reads and parses a dirmeta object.
func (s *Store) LoadDirMeta(ctx context.Context, sum oid.Checksum) (*object.DirMeta, error) {
	b, err := s.ReadMeta(ctx, oid.DirMeta, sum)
	if err != nil {
		return nil, err
	}
	m, err := object.UnmarshalDirMeta(b)
	if err != nil {
		return nil, fmt.Errorf("%s.dirmeta: %w", sum, err)
	}
	return m, nil
}

// LoadCommitMeta reads a commit's detached metadata; it returns nil, nil
// when the commit has none.
func (s *Store) LoadCommitMeta(ctx context.Context, commit oid.Checksum) ([]gvariant.DictEntry, error) {
	b, err := s.ReadMeta(ctx, oid.CommitMeta, commit)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	d, err := object.UnmarshalMeta(b)
	if err != nil {
		return nil, fmt.Errorf("%s.commitmeta: %w", commit, err)
	}
	return d, nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// Content is an open content object: its header and its payload. The
// payload of a bare regular file also implements io.ReaderAt (random
// access) and, in bare-user repositories, FD() int (a raw descriptor, e.g.
// for copy_file_range).
type Content struct {
	Header *object.FileHeader
	Size   int64 // payload size; 0 for symlinks
	io.ReadCloser
}

// openContentSlow opens a content object with plain os calls; OpenContent
// comes here whenever its fast paths give up, so errors are these.
func (s *Store) openContentSlow(ctx context.Context, sum oid.Checksum) (*Content, error) {
	name := oid.ObjectName{Checksum: sum, Type: oid.File}
	c, err := s.openFile(name)
	if err != nil && IsNotExist(err) {
		if s.parent != nil {
			return s.parent.OpenContent(ctx, sum)
		}
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("repo: open %s: %w", name, err)
	}
	return c, nil
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyReader) Close() error             { return nil }

func (s *Store) openFile(name oid.ObjectName) (*Content, error) {
	path := s.ObjectPath(name)
	switch s.mode {
	case ModeArchive:
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		hdr, size, err := object.ReadArchiveHeader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c := &Content{Header: hdr, Size: int64(size)}
		if hdr.IsSymlink() {
			f.Close()
			c.Size = 0
			c.ReadCloser = emptyReader{}
			return c, nil
		}
		c.ReadCloser = &inflater{f: f, zr: flate.NewReader(f), left: int64(size)}
		return c, nil
	case ModeBareUser:
		meta, err := fsutil.GetXattr(path, MetaXattr)
		if err != nil {
			if _, serr := os.Lstat(path); serr != nil {
				return nil, serr
			}
			return nil, fmt.Errorf("%s: missing %s: %w", name, MetaXattr, err)
		}
		dm, err := UnmarshalUserMeta(meta)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		hdr := &object.FileHeader{UID: dm.UID, GID: dm.GID, Mode: dm.Mode, Xattrs: dm.Xattrs}
		if hdr.IsSymlink() {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			hdr.SymlinkTarget = string(bytes.TrimSuffix(b, []byte{0}))
			return &Content{Header: hdr, ReadCloser: emptyReader{}}, nil
		}
		return openRegular(path, hdr)
	default: // bare, bare-user-only, bare-split-xattrs
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return nil, &os.PathError{Op: "lstat", Path: path, Err: err}
		}
		hdr := &object.FileHeader{UID: st.Uid, GID: st.Gid, Mode: st.Mode}
		if s.mode == ModeBare && !s.noXattrs {
			xs, err := fsutil.ListXattrs(path)
			if err != nil {
				return nil, err
			}
			for _, x := range xs {
				hdr.Xattrs = append(hdr.Xattrs, object.Xattr{Name: x.Name, Value: x.Value})
			}
		}
		if s.mode == ModeBareUserOnly {
			hdr.UID, hdr.GID = 0, 0
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			t, err := os.Readlink(path)
			if err != nil {
				return nil, err
			}
			hdr.SymlinkTarget = t
			return &Content{Header: hdr, ReadCloser: emptyReader{}}, nil
		}
		return openRegular(path, hdr)
	}
}

func openRegular(path string, hdr *object.FileHeader) (*Content, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Content{Header: hdr, Size: st.Size(), ReadCloser: f}, nil
}

// inflater reads a .filez payload and insists on exactly the declared size.
type inflater struct {
	f    *os.File
	zr   io.ReadCloser
	left int64
}

func (z *inflater) Read(p []byte) (int, error) { return readSized(z.zr, &z.left, p) }

// readSized reads a .filez payload from its inflater zr, insisting on
// exactly the size the header declared (left counts down to zero).
func readSized(zr io.Reader, left *int64, p []byte) (int, error) {
	if *left <= 0 {
		var one [1]byte
		if n, _ := zr.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w: archive payload longer than its header says", object.ErrMalformed)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > *left {
		p = p[:*left]
	}
	n, err := zr.Read(p)
	*left -= int64(n)
	if err == io.EOF && *left > 0 {
		return n, fmt.Errorf("%w: archive payload shorter than its header says", object.ErrMalformed)
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

func (z *inflater) Close() error {
	z.zr.Close()
	return z.f.Close()
}

var userMetaType = gvariant.MustParseType("(uuua(ayay))")

// UnmarshalUserMeta parses user.ostreemeta, which has dirmeta's layout but
// holds a file's mode.
func UnmarshalUserMeta(b []byte) (*object.DirMeta, error) {
	if m, ok := object.DecodeDirMetaLayout(b); ok {
		return m, nil
	}
	v, err := gvariant.Unmarshal(userMetaType, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", MetaXattr, err)
	}
	t := v.(gvariant.Tuple)
	m := &object.DirMeta{
		UID:  bits.ReverseBytes32(t[0].(uint32)),
		GID:  bits.ReverseBytes32(t[1].(uint32)),
		Mode: bits.ReverseBytes32(t[2].(uint32)),
	}
	for _, e := range t[3].([]any) {
		x := e.(gvariant.Tuple)
		name := x[0].([]byte)
		if len(name) == 0 || name[len(name)-1] != 0 {
			return nil, fmt.Errorf("%w: %s xattr name", object.ErrMalformed, MetaXattr)
		}
		m.Xattrs = append(m.Xattrs, object.Xattr{Name: string(name[:len(name)-1]), Value: x[1].([]byte)})
	}
	return m, nil
}

func MarshalUserMeta(h *object.FileHeader) []byte {
	return (&object.DirMeta{UID: h.UID, GID: h.GID, Mode: h.Mode, Xattrs: h.Xattrs}).Marshal()
}

// StoredSize is the size an object takes in this repository (or its
// parent): its loose file's size, so compressed for archive content.
func (s *Store) StoredSize(ctx context.Context, name oid.ObjectName) (int64, error) {
	st, err := os.Lstat(s.ObjectPath(name))
	if err == nil {
		return st.Size(), nil
	}
	if IsNotExist(err) && s.parent != nil {
		return s.parent.StoredSize(ctx, name)
	}
	if IsNotExist(err) {
		return 0, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return 0, err
}

// PayloadLinkTarget is the content object a payload link (a bare
// repository's reflink index, objects/XX/REST.payload-link) points at.
func (s *Store) PayloadLinkTarget(name oid.ObjectName) (oid.Checksum, error) {
	target, err := os.Readlink(s.ObjectPath(name))
	if err != nil {
		return oid.Checksum{}, err
	}
	// ../XX/REST.file
	dir, base := filepath.Split(target)
	return oid.Parse(filepath.Base(filepath.Clean(dir)) + strings.TrimSuffix(base, ".file"))
}

// DeleteObject removes a loose object (prune, fsck --delete).
func (s *Store) DeleteObject(ctx context.Context, name oid.ObjectName) error {
	if err := os.Remove(s.ObjectPath(name)); err != nil && !IsNotExist(err) {
		return fmt.Errorf("repo: delete %s: %w", name, err)
	}
	return nil
}

// IsPartial reports whether a commit is marked as partially pulled.
func (s *Store) IsPartial(commit oid.Checksum) bool {
	_, err := os.Stat(s.partialPath(commit))
	return err == nil
}

func (s *Store) partialPath(commit oid.Checksum) string {
	return filepath.Join(s.path, "state", commit.String()+".commitpartial")
}

// MarkPartial sets or clears the commitpartial marker of a commit.
func (s *Store) MarkPartial(commit oid.Checksum, partial bool) error {
	p := s.partialPath(commit)
	if !partial {
		if err := os.Remove(p); err != nil && !IsNotExist(err) {
			return err
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(p, nil, 0o644, s.fsync)
}
