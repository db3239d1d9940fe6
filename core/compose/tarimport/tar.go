package tarimport

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/groveos/grove/core/compose/internal/ghash"
	"github.com/groveos/grove/core/mtree"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Tar import reproduces `ostree commit --tree=tar=F --tar-autocreate-parents`
// (ostree 2022.7, ostree-repo-libarchive.c) decision for decision, including
// its quirks: whenever a parent directory is missing, the root and every
// directory on the way get a fresh 0755 dirmeta owned by the entry's uid/gid;
// a skip-list entry skips only that entry, not its children; hardlinks are
// resolved after the whole archive is read, to the target's final content.

// ErrTar reports an unreadable or malformed archive.
var ErrTar = errors.New("compose: tar")

// ImportTar reads a tar archive (plain, gzip, xz, zstd or bzip2, detected
// from its content) into a new Tree as `ostree commit --tree=tar=FILE
// --tar-autocreate-parents` does, writing content and dirmeta objects into
// tx. The archive is read once, sequentially.
func Import(ctx context.Context, tx *repo.Txn, r io.Reader, opts mtree.ImportOptions) (*mtree.Tree, error) {
	mod := opts.Modifier
	if mod == nil {
		mod = mtree.NoModifier()
	}
	in, closeIn, err := decompress(r)
	if err != nil {
		return nil, err
	}
	defer closeIn()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ti := &tarImporter{
		ctx: ctx, tx: tx, r: tx.Repo(), mod: mod, opts: &opts, cancel: cancel,
		root:    opts.Root,
		pending: map[pendKey]*tarJob{},
		links:   map[string][]deferredLink{},
	}
	if ti.root == nil {
		ti.root = mtree.New(oid.Checksum{})
	} else {
		if err := ti.root.Expand(ctx, ti.r); err != nil {
			return nil, err
		}
		ti.rootHasMeta = ti.root.Meta != oid.Checksum{}
	}
	n := runtime.GOMAXPROCS(0)
	ti.jobs = make(chan *tarJob, 2*n)
	for i := 0; i < n; i++ {
		ti.wg.Add(1)
		go ti.worker()
	}
	err = ti.read(in)
	close(ti.jobs)
	ti.wg.Wait()
	if err == nil {
		err = ti.err
	}
	if err == nil {
		err = ti.finish()
	}
	if err != nil {
		return nil, err
	}
	ti.prog.Report(ti.opts, true)
	return ti.root, nil
}

// decompress sniffs the compression from the magic bytes.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(6)
	nop := func() {}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nop, fmt.Errorf("%w: gzip: %v", ErrTar, err)
		}
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		zr, err := xz.NewReader(br)
		if err != nil {
			return nil, nop, fmt.Errorf("%w: xz: %v", ErrTar, err)
		}
		return zr, nop, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nop, fmt.Errorf("%w: zstd: %v", ErrTar, err)
		}
		return zr, zr.Close, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), nop, nil
	}
	return br, nop, nil
}

type pendKey struct {
	t    *mtree.Tree
	name string
}

// tarJob is one buffered regular file hashed and stored by a worker.
type tarJob struct {
	entry string
	hdr   *object.FileHeader
	data  []byte
	sum   oid.Checksum
}

type deferredLink struct {
	parent *mtree.Tree
	name   string
}

type tarImporter struct {
	ctx    context.Context
	tx     *repo.Txn
	r      *repo.Repo
	mod    *mtree.Modifier
	opts   *mtree.ImportOptions
	cancel context.CancelFunc
	prog   mtree.Counters

	root        *mtree.Tree
	rootHasMeta bool
	// pending maps a tree slot to the job that will fill it (the latest
	// entry of that path wins).
	pending map[pendKey]*tarJob
	// links holds deferred hardlinks by target path; linkOrder feeds the
	// GHashTable emulation that gives ostree's processing order.
	links     map[string][]deferredLink
	linkOrder *ghash.Table

	jobs    chan *tarJob
	wg      sync.WaitGroup
	errOnce sync.Once
	err     error
}

// smallFile is the largest file buffered for a worker; bigger files are
// streamed straight into the transaction.
const smallFile = 4 << 20

func (ti *tarImporter) fail(err error) {
	ti.errOnce.Do(func() { ti.err = err; ti.cancel() })
}

func (ti *tarImporter) report() { ti.prog.Report(ti.opts, false) }

func (ti *tarImporter) worker() {
	defer ti.wg.Done()
	for j := range ti.jobs {
		if ti.ctx.Err() != nil {
			continue
		}
		if err := ti.store(j); err != nil {
			ti.fail(err)
		}
	}
}

// store writes a buffered file; in archive repos it hashes first so that
// objects already present are not compressed again.
func (ti *tarImporter) store(j *tarJob) error {
	size := int64(len(j.data))
	if ti.r.Mode() == repo.ModeArchive {
		sum, err := object.ContentChecksum(j.hdr, bytes.NewReader(j.data))
		if err != nil {
			return err
		}
		j.sum = sum
		if ok, err := ti.tx.Has(ti.ctx, oid.ObjectName{Checksum: sum, Type: oid.File}); err != nil || ok {
			return err
		}
		if err := ti.tx.WriteContentAs(ti.ctx, sum, j.hdr, bytes.NewReader(j.data), size); err != nil {
			return fmt.Errorf("compose: tar entry %q: %w", j.entry, err)
		}
		ti.prog.Written.Add(1)
		ti.prog.Bytes.Add(size)
		return nil
	}
	before := ti.tx.Stats().ContentWritten
	sum, err := ti.tx.WriteContent(ti.ctx, j.hdr, bytes.NewReader(j.data), size)
	if err != nil {
		return fmt.Errorf("compose: tar entry %q: %w", j.entry, err)
	}
	if ti.tx.Stats().ContentWritten != before {
		ti.prog.Written.Add(1)
		ti.prog.Bytes.Add(size)
	}
	j.sum = sum
	return nil
}

// read walks the archive entries in order.
func (ti *tarImporter) read(in io.Reader) error {
	rec := &recordingReader{r: in}
	tr := tar.NewReader(rec)
	for {
		if err := ti.ctx.Err(); err != nil {
			return err
		}
		rec.start()
		h, err := tr.Next()
		ext := rec.stop()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: reading archive: %v", ErrTar, err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if err := ti.entry(tr, h, ext); err != nil {
			return err
		}
		// Whatever the entry left unread is skipped before the next header.
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return fmt.Errorf("%w: reading %q: %v", ErrTar, h.Name, err)
		}
	}
}

// entry is aic_import_entry: normalise the path, run the modifier, find
// (or create) the parent, then handle the entry by type.
func (ti *tarImporter) entry(tr *tar.Reader, h *tar.Header, ext []byte) error {
	path, err := tarRelative(h.Name)
	if err != nil {
		return fmt.Errorf("%w: tar entry %q: %v", mtree.ErrBadPath, h.Name, err)
	}
	path = strings.TrimRight(path, "/")

	perm := uint32(h.Mode) & object.ModePerms
	var typ uint32
	kind := ""
	switch h.Typeflag {
	case tar.TypeDir:
		typ = object.ModeDir
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse, tar.TypeLink:
		typ = object.ModeReg
	case tar.TypeSymlink:
		typ = object.ModeLink
	case tar.TypeChar:
		kind = "character device"
	case tar.TypeBlock:
		kind = "block device"
	case tar.TypeFifo:
		kind = "FIFO"
	default:
		kind = fmt.Sprintf("tar type %q", h.Typeflag)
	}
	uid, gid, mode := uint32(h.Uid), uint32(h.Gid), typ|perm
	skip := ti.mod.Apply(ti.r, "/"+path, &uid, &gid, &mode)
	if kind != "" && ti.mod.Canonical(ti.r) {
		// ostree aborts here (g_assert_not_reached), even for a skipped
		// entry; refuse cleanly.
		return fmt.Errorf("%w: tar entry %q: %s (only regular files, symlinks and directories can be committed)", mtree.ErrUnsupported, h.Name, kind)
	}
	if skip {
		return nil
	}

	comps, err := splitValidate(path)
	if err != nil {
		return fmt.Errorf("%w: tar entry %q: %v", mtree.ErrBadPath, h.Name, err)
	}
	parent, err := ti.parentDir(h, comps)
	if err != nil {
		return err
	}
	if kind != "" {
		return fmt.Errorf("%w: tar entry %q: %s (only regular files, symlinks and directories can be committed)", mtree.ErrUnsupported, h.Name, kind)
	}
	name := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		name = path[i+1:]
	}
	if name != "" {
		if err := object.ValidateName(name); err != nil {
			return fmt.Errorf("compose: tar entry %q: %w", h.Name, err)
		}
	}

	var xattrs []object.Xattr
	if !ti.mod.SkipXattrs && ti.r.Mode() != repo.ModeBareUserOnly {
		xattrs = paxXattrs(ext)
	}

	if typ == object.ModeDir {
		return ti.dir(h, parent, name, &object.DirMeta{UID: uid, GID: gid, Mode: mode, Xattrs: xattrs})
	}
	if name == "" {
		return fmt.Errorf("%w: tar entry %q: a file cannot be the root directory", mtree.ErrConflict, h.Name)
	}
	if isDir := parent.DirOf(name) != nil; isDir {
		return fmt.Errorf("%w: tar entry %q: can't replace directory with file", mtree.ErrConflict, h.Name)
	}
	hdr := &object.FileHeader{UID: uid, GID: gid, Mode: mode, Xattrs: xattrs}
	ti.prog.Scanned.Add(1)
	if h.Typeflag == tar.TypeLink {
		// Deferred to the end, when the target's final content is known
		// (it may even come later in the archive).
		target, err := tarRelative(h.Linkname)
		if err != nil {
			return fmt.Errorf("%w: tar entry %q: hardlink target %q: %v", mtree.ErrBadPath, h.Name, h.Linkname, err)
		}
		if ti.linkOrder == nil {
			ti.linkOrder = ghash.New()
		}
		if _, ok := ti.links[target]; !ok {
			ti.linkOrder.Insert(target, nil)
		}
		ti.links[target] = append(ti.links[target], deferredLink{parent: parent, name: name})
		return nil
	}
	key := pendKey{parent, name}
	if typ == object.ModeLink {
		hdr.SymlinkTarget = h.Linkname
		sum, err := ti.tx.WriteContent(ti.ctx, hdr, nil, 0)
		if err != nil {
			return fmt.Errorf("compose: tar entry %q: %w", h.Name, err)
		}
		delete(ti.pending, key)
		parent.PutFile(name, sum)
		return nil
	}
	if err := hdr.Validate(); err != nil {
		return fmt.Errorf("compose: tar entry %q: %w", h.Name, err)
	}
	if h.Size <= smallFile {
		data := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return fmt.Errorf("%w: reading %q: %v", ErrTar, h.Name, unexpected(err))
		}
		j := &tarJob{entry: h.Name, hdr: hdr, data: data}
		ti.pending[key] = j
		parent.PutFile(name, oid.Checksum{})
		select {
		case ti.jobs <- j:
		case <-ti.ctx.Done():
			return ti.ctx.Err()
		}
	} else {
		before := ti.tx.Stats().ContentWritten
		sum, err := ti.tx.WriteContent(ti.ctx, hdr, tr, h.Size)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: reading %q: %v", ErrTar, h.Name, unexpected(err))
			}
			return fmt.Errorf("compose: tar entry %q: %w", h.Name, err)
		}
		if ti.tx.Stats().ContentWritten != before {
			ti.prog.Written.Add(1)
			ti.prog.Bytes.Add(h.Size)
		}
		delete(ti.pending, key)
		parent.PutFile(name, sum)
	}
	if ti.prog.Scanned.Load()%256 == 0 {
		ti.report()
	}
	return nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// dir is aic_handle_dir: the directory (created if needed, the root for
// "") gets the entry's metadata, even if it existed already.
func (ti *tarImporter) dir(h *tar.Header, parent *mtree.Tree, name string, meta *object.DirMeta) error {
	sum, err := ti.tx.WriteMeta(ti.ctx, oid.DirMeta, meta.Marshal())
	if err != nil {
		return fmt.Errorf("compose: tar entry %q: %w", h.Name, err)
	}
	if name == "" {
		ti.root.Meta, ti.rootHasMeta = sum, true
		return nil
	}
	if _, isFile := parent.FileOf(name); isFile {
		return fmt.Errorf("%w: tar entry %q: can't replace file with directory", mtree.ErrConflict, h.Name)
	}
	if d := parent.DirOf(name); d != nil {
		d.Meta = sum
		return nil
	}
	parent.PutDir(name, mtree.New(sum))
	return nil
}

// parentDir is aic_get_parent_dir. When any parent is missing, ostree
// rewrites the dirmeta of the root and of every directory down to the
// entry as 0755 owned by the entry's own (unmodified) uid/gid.
func (ti *tarImporter) parentDir(h *tar.Header, comps []string) (*mtree.Tree, error) {
	if len(comps) == 0 {
		return ti.root, nil
	}
	cur := ti.root
	for _, c := range comps[:len(comps)-1] {
		d := cur.DirOf(c)
		if d == nil {
			cur = nil
			break
		}
		if err := d.Expand(ti.ctx, ti.r); err != nil {
			return nil, err
		}
		cur = d
	}
	if cur != nil {
		return cur, nil
	}
	if ti.opts.StrictParents {
		return nil, fmt.Errorf("%w: tar entry %q: parent directory missing from the archive (use --tar-autocreate-parents)", mtree.ErrBadPath, h.Name)
	}
	meta := &object.DirMeta{UID: uint32(h.Uid), GID: uint32(h.Gid), Mode: object.ModeDir | 0o755}
	sum, err := ti.tx.WriteMeta(ti.ctx, oid.DirMeta, meta.Marshal())
	if err != nil {
		return nil, err
	}
	ti.root.Meta, ti.rootHasMeta = sum, true
	cur = ti.root
	for _, c := range comps[:len(comps)-1] {
		if err := object.ValidateName(c); err != nil {
			return nil, fmt.Errorf("compose: tar entry %q: %w", h.Name, err)
		}
		if _, isFile := cur.FileOf(c); isFile {
			return nil, fmt.Errorf("%w: tar entry %q: parent %q is a file", mtree.ErrConflict, h.Name, c)
		}
		d := cur.DirOf(c)
		if d == nil {
			d = mtree.New(sum)
			cur.PutDir(c, d)
		} else {
			if err := d.Expand(ti.ctx, ti.r); err != nil {
				return nil, err
			}
			d.Meta = sum
		}
		cur = d
	}
	return cur, nil
}

// finish fills in the worker results, resolves hardlinks in ostree's
// order and gives an archive without any directory its root.
func (ti *tarImporter) finish() error {
	for k, j := range ti.pending {
		k.t.PutFile(k.name, j.sum)
	}
	if ti.linkOrder != nil {
		for _, e := range ti.linkOrder.Entries() {
			target := e.Key.(string)
			sum, err := ti.lookupFile(target)
			if err != nil {
				return fmt.Errorf("compose: tar: processing deferred hardlink %s: %w", target, err)
			}
			for _, l := range ti.links[target] {
				if isDir := l.parent.DirOf(l.name) != nil; isDir {
					return fmt.Errorf("%w: tar: processing deferred hardlink %s: can't replace directory with file: %s", mtree.ErrConflict, target, l.name)
				}
				l.parent.PutFile(l.name, sum)
			}
		}
	}
	if !ti.rootHasMeta {
		if ti.opts.StrictParents {
			return fmt.Errorf("%w: archive has no root directory entry (use --tar-autocreate-parents)", mtree.ErrBadPath)
		}
		uid, gid, mode := uint32(0), uint32(0), uint32(object.ModeDir|0o755)
		ti.mod.Apply(ti.r, "/", &uid, &gid, &mode)
		meta := &object.DirMeta{UID: uid, GID: gid, Mode: mode}
		sum, err := ti.tx.WriteMeta(ti.ctx, oid.DirMeta, meta.Marshal())
		if err != nil {
			return err
		}
		ti.root.Meta, ti.rootHasMeta = sum, true
	}
	return nil
}

func (ti *tarImporter) lookupFile(target string) (oid.Checksum, error) {
	comps, err := splitValidate(target)
	if err != nil || len(comps) == 0 {
		return oid.Checksum{}, fmt.Errorf("%w: hardlink target %q", mtree.ErrBadPath, target)
	}
	cur := ti.root
	for _, c := range comps[:len(comps)-1] {
		if cur = cur.DirOf(c); cur == nil {
			return oid.Checksum{}, fmt.Errorf("%w: hardlink target %q: no such file or directory: %s", mtree.ErrBadPath, target, c)
		}
		if err := cur.Expand(ti.ctx, ti.r); err != nil {
			return oid.Checksum{}, err
		}
	}
	name := comps[len(comps)-1]
	if ok := cur.DirOf(name) != nil; ok {
		return oid.Checksum{}, fmt.Errorf("%w: expected hardlink file target at %q but found a directory", mtree.ErrConflict, target)
	}
	sum, ok := cur.FileOf(name)
	if !ok {
		return oid.Checksum{}, fmt.Errorf("%w: hardlink target %q: no such file or directory", mtree.ErrBadPath, target)
	}
	return sum, nil
}

// tarRelative is ostree's path_relative: leading slashes go (a "../"
// right after one is dropped too), then "./" and "/" prefixes; "." is the
// root; any ".." left is an error.
func tarRelative(src string) (string, error) {
	for strings.HasPrefix(src, "/") {
		src = src[1:]
		if strings.HasPrefix(src, "../") {
			src = src[2:]
		}
	}
	for {
		if strings.HasPrefix(src, "./") {
			src = src[2:]
		} else if strings.HasPrefix(src, "/") {
			src = src[1:]
		} else {
			break
		}
	}
	if src == "." {
		src = ""
	}
	if _, err := splitValidate(src); err != nil {
		return "", err
	}
	return src, nil
}

// splitValidate is ot_util_path_split_validate: components without "."
// and empty ones; ".." is refused.
func splitValidate(p string) ([]string, error) {
	var out []string
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "..":
			return nil, fmt.Errorf("invalid uplink '..' in path %s", p)
		case "", ".":
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

// recordingReader keeps the bytes archive/tar consumes while reading a
// header: archive/tar hands PAX records over as a map, but the order of the
// xattr records decides the checksum.
type recordingReader struct {
	r     io.Reader
	off   int64
	on    bool
	from  int64
	bytes []byte
}

func (rr *recordingReader) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if rr.on {
		rr.bytes = append(rr.bytes, p[:n]...)
	}
	rr.off += int64(n)
	return n, err
}

func (rr *recordingReader) start() {
	rr.on, rr.from, rr.bytes = true, rr.off, rr.bytes[:0]
}

// stop returns the header blocks read, starting at the first block
// boundary (the previous entry's padding is cut off).
func (rr *recordingReader) stop() []byte {
	rr.on = false
	skip := int((512 - rr.from%512) % 512)
	if skip > len(rr.bytes) {
		return nil
	}
	return rr.bytes[skip:]
}

// paxXattrs extracts the extended attributes from the PAX extended headers
// of one entry in libarchive's order: each one is prepended to the list, so
// the last record comes first.
func paxXattrs(blocks []byte) []object.Xattr {
	var xs []object.Xattr
	add := func(name string, value []byte) {
		xs = append([]object.Xattr{{Name: name, Value: value}}, xs...)
	}
	for len(blocks) >= 512 {
		blk := blocks[:512]
		flag := blk[156]
		if flag != 'x' && flag != 'L' && flag != 'K' {
			break
		}
		size, ok := tarNumber(blk[124:136])
		if !ok || size < 0 || int64(len(blocks)-512) < size {
			break
		}
		data := blocks[512 : 512+size]
		blocks = blocks[512+(size+511)&^511:]
		if flag != 'x' {
			continue
		}
		for len(data) > 0 {
			sp := bytes.IndexByte(data, ' ')
			if sp < 0 {
				break
			}
			n, err := strconv.Atoi(string(data[:sp]))
			if err != nil || n <= sp+1 || n > len(data) || data[n-1] != '\n' {
				break
			}
			kv := data[sp+1 : n-1]
			data = data[n:]
			eq := bytes.IndexByte(kv, '=')
			if eq < 0 {
				continue
			}
			key, value := string(kv[:eq]), append([]byte(nil), kv[eq+1:]...)
			switch {
			case strings.HasPrefix(key, "SCHILY.xattr.") && len(key) > len("SCHILY.xattr."):
				add(strings.TrimPrefix(key, "SCHILY.xattr."), value)
			case strings.HasPrefix(key, "LIBARCHIVE.xattr."):
				name, err := url.PathUnescape(strings.TrimPrefix(key, "LIBARCHIVE.xattr."))
				if err != nil {
					continue
				}
				v, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(string(value), "="))
				if err != nil {
					continue
				}
				add(name, v)
			case key == "RHT.security.selinux":
				add("security.selinux", value)
			}
		}
	}
	return xs
}

// tarNumber parses a numeric header field (octal, or base-256).
func tarNumber(f []byte) (int64, bool) {
	if len(f) > 0 && f[0]&0x80 != 0 {
		var v int64
		for i, b := range f {
			if i == 0 {
				b &= 0x7f
			}
			v = v<<8 | int64(b)
		}
		return v, true
	}
	s := strings.Trim(string(f), " \x00")
	if s == "" {
		return 0, true
	}
	v, err := strconv.ParseInt(s, 8, 64)
	return v, err == nil
}
