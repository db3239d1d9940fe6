package generate

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// piece is a run of a part's blob: bytes in memory, a range of a content
// object's payload, or a range of the spool file (bsdiff patches).
type piece struct {
	data      []byte
	obj       oid.Checksum
	spool     bool
	off, size int64
}

func (p piece) len() int64 {
	if p.data != nil {
		return int64(len(p.data))
	}
	return p.size
}

// partBuilder accumulates one part: its objects, tables, blob pieces and
// opcodes.
type partBuilder struct {
	objects  []oid.ObjectName
	usize    uint64
	modes    []delta.Mode
	modeIdx  map[delta.Mode]int
	xattrs   [][]object.Xattr
	xattrIdx map[string]int
	tables   int64 // serialised size of the tables, for the size estimate
	pieces   []piece
	blobLen  int64
	ops      []byte
}

func newPart() *partBuilder {
	return &partBuilder{modeIdx: map[delta.Mode]int{}, xattrIdx: map[string]int{}}
}

// estimate is the payload size so far, tables and opcodes included.
func (p *partBuilder) estimate() int64 { return p.blobLen + int64(len(p.ops)) + p.tables }

func (p *partBuilder) mode(m delta.Mode) uint64 {
	if i, ok := p.modeIdx[m]; ok {
		return uint64(i)
	}
	p.modeIdx[m] = len(p.modes)
	p.modes = append(p.modes, m)
	p.tables += 12
	return uint64(len(p.modes) - 1)
}

func (p *partBuilder) xattr(xs []object.Xattr) uint64 {
	k := string(object.MarshalXattrs(xs))
	if i, ok := p.xattrIdx[k]; ok {
		return uint64(i)
	}
	p.xattrIdx[k] = len(p.xattrs)
	p.xattrs = append(p.xattrs, xs)
	p.tables += int64(len(k))
	return uint64(len(p.xattrs) - 1)
}

// add appends a blob piece and returns its offset in the blob.
func (p *partBuilder) add(pc piece) uint64 {
	off := p.blobLen
	if pc.len() > 0 {
		p.pieces = append(p.pieces, pc)
		p.blobLen += pc.len()
	}
	return uint64(off)
}

func (p *partBuilder) op(code byte, args ...uint64) {
	p.ops = append(p.ops, code)
	for _, a := range args {
		p.ops = binary.AppendUvarint(p.ops, a)
	}
}

var (
	modesType  = gvariant.MustParseType("a(uuu)")
	xattrsType = gvariant.MustParseType("aa(ayay)")
)

// offsetWidth is GVariant's framing offset width for a container with a
// body of n bytes and k offsets.
func offsetWidth(n int64, k int) int {
	for _, w := range []int{1, 2, 4} {
		if n+int64(k*w) <= 1<<(8*w)-1 {
			return w
		}
	}
	return 8
}

// payloadLayout returns the bytes before the blob (tables) and after it
// (opcodes and the tuple's framing offsets) of the part's payload
// variant (a(uuu)aa(ayay)ayay); the blob goes between them.
func (p *partBuilder) payloadLayout() (head, tail []byte, err error) {
	modes := make([]any, len(p.modes))
	for i, m := range p.modes {
		modes[i] = gvariant.Tuple{bswap(m.UID), bswap(m.GID), bswap(m.Mode)}
	}
	mb, err := gvariant.Marshal(modesType, modes)
	if err != nil {
		return nil, nil, err
	}
	xs := make([]any, len(p.xattrs))
	for i, x := range p.xattrs {
		v, err := gvariant.Unmarshal(gvariant.MustParseType("a(ayay)"), object.MarshalXattrs(x))
		if err != nil {
			return nil, nil, err
		}
		xs[i] = v
	}
	xb, err := gvariant.Marshal(xattrsType, xs)
	if err != nil {
		return nil, nil, err
	}
	head = append(mb, xb...)
	body := int64(len(head)) + p.blobLen + int64(len(p.ops))
	w := offsetWidth(body, 3)
	tail = append([]byte(nil), p.ops...)
	// Tuple framing offsets, last member's first: blob end, xattrs end, modes end.
	for _, end := range []int64{int64(len(head)) + p.blobLen, int64(len(head)), int64(len(mb))} {
		tail = appendOffset(tail, end, w)
	}
	return head, tail, nil
}

func appendOffset(b []byte, v int64, w int) []byte {
	for i := 0; i < w; i++ {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func bswap(v uint32) uint32 { return v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24 }

// pieceReader streams the blob pieces, opening content objects as it
// reaches them.
type pieceReader struct {
	ctx   context.Context
	r     *repo.Repo
	spool *os.File
}

func (pr *pieceReader) writeTo(w io.Writer, pieces []piece) error {
	var cur *repo.Content
	var curSum oid.Checksum
	var curPos int64
	defer func() {
		if cur != nil {
			cur.Close()
		}
	}()
	for _, pc := range pieces {
		if err := pr.ctx.Err(); err != nil {
			return err
		}
		switch {
		case pc.data != nil:
			if _, err := w.Write(pc.data); err != nil {
				return err
			}
		case pc.spool:
			if _, err := io.Copy(w, io.NewSectionReader(pr.spool, pc.off, pc.size)); err != nil {
				return err
			}
		default:
			if cur == nil || curSum != pc.obj || curPos > pc.off {
				if cur != nil {
					cur.Close()
				}
				c, err := pr.r.OpenContent(pr.ctx, pc.obj)
				if err != nil {
					return err
				}
				cur, curSum, curPos = c, pc.obj, 0
			}
			if pc.off > curPos {
				if _, err := io.CopyN(io.Discard, cur, pc.off-curPos); err != nil {
					return fmt.Errorf("object %s: %w", pc.obj, err)
				}
				curPos = pc.off
			}
			if _, err := io.CopyN(w, cur, pc.size); err != nil {
				return fmt.Errorf("object %s: %w", pc.obj, err)
			}
			curPos += pc.size
		}
	}
	return nil
}

// writtenPart is a finished part file.
type writtenPart struct {
	header delta.PartHeader
	path   string // temporary file holding the part
}

// countingWriter counts and hashes what passes.
type countingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// xzWriter is the part compressor: LZMA2 (ulikunitz/xz's hash-table
// match finder: its binary tree is slower and, measured on executables,
// compresses worse) with a dictionary as large as the payload up to
// 32 MiB (liblzma's preset 8, which ostree uses), CRC64 checks.
func xzWriter(w io.Writer, size int64) (io.WriteCloser, error) {
	dict := int(min(max(size, 1<<16), 32<<20))
	// A 1 MiB lookahead buffer: the same output as the 4 KiB default, in
	// a quarter of the time.
	return xz.WriterConfig{DictCap: dict, BufSize: 1 << 20, CheckSum: xz.CRC64, Matcher: lzma.HashTable4}.NewWriter(w)
}

// write serialises the part into a new file in dir: the compression byte,
// then the payload, xz-compressed; it returns the part header.
func (p *partBuilder) write(ctx context.Context, r *repo.Repo, spool *os.File, dir string) (*writtenPart, error) {
	head, tail, err := p.payloadLayout()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".part-")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	cw := &countingWriter{w: f, h: sha256.New()}
	if _, err := cw.Write([]byte{delta.CompressionXZ}); err != nil {
		return nil, err
	}
	zw, err := xzWriter(cw, int64(len(head))+p.blobLen+int64(len(tail)))
	if err != nil {
		return nil, err
	}
	bw := &bufWriter{w: zw, buf: make([]byte, 0, 1<<20)}
	bw.Write(head)
	if err := (&pieceReader{ctx: ctx, r: r, spool: spool}).writeTo(bw, p.pieces); err != nil {
		return nil, err
	}
	bw.Write(tail)
	if err := bw.flush(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if r.Fsync() {
		if err := f.Sync(); err != nil {
			return nil, err
		}
	}
	if err := f.Chmod(0o644); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	ok = true
	var sum oid.Checksum
	copy(sum[:], cw.h.Sum(nil))
	return &writtenPart{
		header: delta.PartHeader{Version: delta.PartVersion, Checksum: sum, Size: uint64(cw.n), USize: p.usize, Objects: p.objects},
		path:   f.Name(),
	}, nil
}

// bufWriter batches small writes before the compressor.
type bufWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func (b *bufWriter) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(b.buf)+len(p) > cap(b.buf) {
		if b.flush() != nil {
			return 0, b.err
		}
		if len(p) >= cap(b.buf) {
			_, b.err = b.w.Write(p)
			return len(p), b.err
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *bufWriter) flush() error {
	if b.err == nil && len(b.buf) > 0 {
		_, b.err = b.w.Write(b.buf)
		b.buf = b.buf[:0]
	}
	return b.err
}
