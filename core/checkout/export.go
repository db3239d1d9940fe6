package checkout

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// ExportOptions configure Export.
type ExportOptions struct {
	// Subpath exports only this directory of the commit.
	Subpath string
	// Prefix is prepended verbatim to every path, as ostree's --prefix.
	Prefix string
	// BlockSize pads the stream with zeros to a multiple of it; libarchive
	// uses 10240 for pipes and standard output, nothing for regular files.
	BlockSize int64
}

// Export writes commit's tree as a GNU tar stream laid out byte for byte
// like `ostree export` (libarchive's gnutar writer): every entry carries
// the commit timestamp, numeric owners and no xattrs (the GNU format has
// none); a directory's files come before its subdirectories, in dirtree
// order; hardlinks are written as separate files.
func Export(ctx context.Context, r *repo.Repo, commit oid.Checksum, w io.Writer, opts ExportOptions) error {
	c, err := r.LoadCommit(ctx, commit)
	if err != nil {
		return fmt.Errorf("export: commit %s: %w", commit, err)
	}
	t, err := Resolve(ctx, r, c.RootTree, c.RootMeta, opts.Subpath)
	if err != nil {
		return err
	}
	if t.IsFile {
		return fmt.Errorf("export: %s: not a directory", opts.Subpath)
	}
	cw := &fsutil.CountingWriter{W: w}
	e := &exporter{ctx: ctx, r: r, w: bufio.NewWriterSize(cw, 1<<20), mtime: c.Timestamp, prefix: opts.Prefix}
	if err := e.dir("", t.Tree, t.Meta); err != nil {
		return err
	}
	// End of archive: two zero blocks; libarchive pads a regular output
	// file no further.
	if _, err := e.w.Write(make([]byte, 1024)); err != nil {
		return err
	}
	if err := e.w.Flush(); err != nil {
		return err
	}
	if bs := opts.BlockSize; bs > 0 && cw.N%bs != 0 {
		if _, err := w.Write(make([]byte, bs-cw.N%bs)); err != nil {
			return err
		}
	}
	return nil
}

type exporter struct {
	ctx    context.Context
	r      *repo.Repo
	w      *bufio.Writer
	mtime  uint64
	prefix string
}

func (e *exporter) name(rel string) string {
	p := e.prefix + rel
	if p == "" {
		return "."
	}
	return p
}

func (e *exporter) dir(rel string, tree, meta oid.Checksum) error {
	if err := e.ctx.Err(); err != nil {
		return err
	}
	dt, err := e.r.LoadDirTree(e.ctx, tree)
	if err != nil {
		return fmt.Errorf("export: %s: %w", e.name(rel), err)
	}
	m, err := e.r.LoadDirMeta(e.ctx, meta)
	if err != nil {
		return fmt.Errorf("export: %s: %w", e.name(rel), err)
	}
	name := e.name(rel)
	if name[len(name)-1] != '/' {
		name += "/"
	}
	if err := e.header(name, "", m.Mode, m.UID, m.GID, 0, '5'); err != nil {
		return err
	}
	prefix := ""
	if rel != "" {
		prefix = rel + "/"
	}
	for _, f := range dt.Files {
		if err := e.file(prefix+f.Name, f.Checksum); err != nil {
			return err
		}
	}
	for _, d := range dt.Dirs {
		if err := e.dir(prefix+d.Name, d.Tree, d.Meta); err != nil {
			return err
		}
	}
	return nil
}

func (e *exporter) file(rel string, sum oid.Checksum) error {
	c, err := e.r.OpenContent(e.ctx, sum)
	if err != nil {
		return fmt.Errorf("export: %s: %w", e.name(rel), err)
	}
	defer c.Close()
	h := c.Header
	if h.IsSymlink() {
		return e.header(e.name(rel), h.SymlinkTarget, h.Mode, h.UID, h.GID, 0, '2')
	}
	if err := e.header(e.name(rel), "", h.Mode, h.UID, h.GID, c.Size, '0'); err != nil {
		return err
	}
	n, err := io.Copy(e.w, c.ReadCloser)
	if err != nil {
		return fmt.Errorf("export: %s (%s): %w", e.name(rel), sum, err)
	}
	if n != c.Size {
		return fmt.Errorf("export: %s (%s): %w: %d bytes, header says %d", e.name(rel), sum, object.ErrMalformed, n, c.Size)
	}
	return e.pad(n)
}

func (e *exporter) pad(n int64) error {
	if r := n % 512; r != 0 {
		_, err := e.w.Write(make([]byte, 512-r))
		return err
	}
	return nil
}

// header writes a GNU tar header, preceded by ././@LongLink records for a
// name or link target longer than 100 bytes.
func (e *exporter) header(name, link string, mode, uid, gid uint32, size int64, typ byte) error {
	if len(link) > 100 {
		if err := e.longLink('K', link); err != nil {
			return err
		}
	}
	if len(name) > 100 {
		if err := e.longLink('L', name); err != nil {
			return err
		}
	}
	var b [512]byte
	copy(b[0:100], name)
	octal(b[100:108], uint64(mode&0o7777))
	octal(b[108:116], uint64(uid))
	octal(b[116:124], uint64(gid))
	octal(b[124:136], uint64(size))
	octal(b[136:148], e.mtime)
	b[156] = typ
	copy(b[157:257], link)
	copy(b[257:265], "ustar  \x00")
	checksum(&b)
	_, err := e.w.Write(b[:])
	return err
}

func (e *exporter) longLink(typ byte, s string) error {
	var b [512]byte
	copy(b[0:], "././@LongLink")
	octal(b[100:108], 0)
	octal(b[108:116], 0)
	octal(b[116:124], 0)
	octal(b[124:136], uint64(len(s)+1))
	octal(b[136:148], 0)
	b[156] = typ
	copy(b[257:265], "ustar  \x00")
	copy(b[265:297], "root")
	copy(b[297:329], "wheel")
	checksum(&b)
	if _, err := e.w.Write(b[:]); err != nil {
		return err
	}
	if _, err := io.WriteString(e.w, s); err != nil {
		return err
	}
	if err := e.w.WriteByte(0); err != nil {
		return err
	}
	return e.pad(int64(len(s) + 1))
}

// octal fills a numeric field like libarchive: zero-padded octal digits
// and a NUL, or GNU base-256 when the value does not fit.
func octal(f []byte, v uint64) {
	digits := len(f) - 1
	s := strconv.FormatUint(v, 8)
	if len(s) > digits {
		for i := len(f) - 1; i > 0; i-- {
			f[i] = byte(v)
			v >>= 8
		}
		f[0] = 0x80
		return
	}
	for i := 0; i < digits-len(s); i++ {
		f[i] = '0'
	}
	copy(f[digits-len(s):], s)
	f[digits] = 0
}

func checksum(b *[512]byte) {
	for i := 148; i < 156; i++ {
		b[i] = ' '
	}
	var sum uint64
	for _, c := range b {
		sum += uint64(c)
	}
	s := strconv.FormatUint(sum, 8)
	for len(s) < 6 {
		s = "0" + s
	}
	copy(b[148:], s)
	b[154] = 0
	b[155] = ' '
}
