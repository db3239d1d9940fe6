package generate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
)

// Generate writes the delta from opts.From (or scratch) to opts.To.
func Generate(ctx context.Context, r *repo.Repo, opts Options) (*Result, error) {
	opts.validate()
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	name := delta.Name{To: opts.To}
	if opts.From != nil {
		name.From = *opts.From
	}
	commit, err := r.ReadMeta(ctx, oid.Commit, opts.To)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	opts.Progress.Report(progress.Event{Phase: "scanning"})
	p, err := makePlan(ctx, r, &opts)
	if err != nil {
		return nil, err
	}
	sp, err := newSpool(r)
	if err != nil {
		return nil, err
	}
	defer sp.f.Close()

	// Modified files: rollsum and bsdiff, in parallel.
	mods, err := diffPairs(ctx, r, &opts, jobs, sp, p)
	if err != nil {
		return nil, err
	}

	res := &Result{Name: name}
	var rollsums, bsdiffs, plains, symlinks, fallbacks []*fileInfo
	for _, f := range p.files {
		switch {
		case !f.regular():
			symlinks = append(symlinks, f)
		case mods[f.sum] != nil && mods[f.sum].kind == kRollsum:
			rollsums = append(rollsums, f)
		case mods[f.sum] != nil && mods[f.sum].kind == kBsdiff:
			bsdiffs = append(bsdiffs, f)
		case opts.MinFallbackSize > 0 && f.size > opts.MinFallbackSize:
			fallbacks = append(fallbacks, f)
		default:
			plains = append(plains, f)
		}
	}
	byPath := func(fs []*fileInfo) {
		sort.SliceStable(fs, func(i, j int) bool { return fs[i].path < fs[j].path })
	}
	byPath(rollsums)
	byPath(bsdiffs)
	byPath(symlinks)
	byPath(fallbacks)
	orderFiles(plains)

	// Pack, in ostree's order: metadata, rollsum, bsdiff, plain files, symlinks.
	pk := &packer{max: opts.MaxChunkSize, cur: newPart()}
	pk.parts = []*partBuilder{pk.cur}
	for _, n := range p.meta {
		data, err := r.ReadMeta(ctx, n.Type, n.Checksum)
		if err != nil {
			return nil, err
		}
		pk.start(int64(len(data)))
		pk.cur.objects = append(pk.cur.objects, n)
		pk.cur.usize += uint64(len(data))
		off := pk.cur.add(piece{data: data})
		pk.cur.op(delta.OpOpenSpliceAndClose, uint64(len(data)), off)
		res.Loose += int64(len(data))
	}
	for _, f := range rollsums {
		m := mods[f.sum]
		pk.start(f.size - m.rs.matched)
		pk.rollsum(f, m)
		res.Rollsum++
		res.RollsumBytes += m.rs.matched
		res.Loose += storageSize(r, oid.ObjectName{Checksum: f.sum, Type: oid.File})
	}
	for _, f := range bsdiffs {
		m := mods[f.sum]
		pk.start(m.patchLen + oid.Size)
		pk.bsdiff(f, m)
		res.Bsdiff++
		res.Loose += storageSize(r, oid.ObjectName{Checksum: f.sum, Type: oid.File})
	}
	for _, f := range append(plains, symlinks...) {
		size := f.size
		pc := piece{obj: f.sum, size: f.size}
		if !f.regular() {
			pc = piece{data: []byte(f.hdr.SymlinkTarget)}
			size = int64(len(f.hdr.SymlinkTarget))
		}
		pk.start(size)
		pk.cur.objects = append(pk.cur.objects, oid.ObjectName{Checksum: f.sum, Type: oid.File})
		pk.cur.usize += uint64(size)
		mi, xi := pk.cur.mode(modeOf(f.hdr)), pk.cur.xattr(f.hdr.Xattrs)
		off := pk.cur.add(pc)
		pk.cur.op(delta.OpOpenSpliceAndClose, mi, xi, uint64(size), off)
		res.Loose += storageSize(r, oid.ObjectName{Checksum: f.sum, Type: oid.File})
	}

	sb := &delta.Superblock{
		Metadata: opts.Metadata, From: name.From, To: name.To, Commit: commit, Endian: opts.Endian,
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	sb.Timestamp = uint64(now.Unix())
	if cm, err := r.ReadMeta(ctx, oid.CommitMeta, opts.To); err == nil {
		sb.CommitMeta = cm
	} else if !errors.Is(err, repo.ErrNotFound) {
		return nil, err
	}
	for _, f := range fallbacks {
		n := oid.ObjectName{Checksum: f.sum, Type: oid.File}
		sb.Fallbacks = append(sb.Fallbacks, delta.Fallback{Object: n, Size: uint64(storageSize(r, n)), USize: uint64(f.size)})
	}

	out, err := newOutput(r, name, opts.Filename)
	if err != nil {
		return nil, err
	}
	defer out.cleanup()
	written, err := writeParts(ctx, r, &opts, jobs, sp, out.dir, pk.parts)
	if err != nil {
		return nil, err
	}
	for i, w := range written {
		sb.Parts = append(sb.Parts, w.header)
		res.Compressed += int64(w.header.Size)
		res.Uncompressed += int64(w.header.USize)
		if opts.Inline {
			b, err := os.ReadFile(w.path)
			if err != nil {
				return nil, err
			}
			os.Remove(w.path)
			if sb.Inline == nil {
				sb.Inline = map[int][]byte{}
			}
			sb.Inline[i] = b
		} else if err := os.Rename(w.path, filepath.Join(out.dir, strconv.Itoa(i))); err != nil {
			return nil, err
		}
	}
	data := sb.Marshal()
	if len(opts.Signers) > 0 {
		if data, err = sign(ctx, data, opts.Signers); err != nil {
			return nil, err
		}
	}
	if err := out.finish(data, len(written), opts.Inline, r.Fsync()); err != nil {
		return nil, err
	}
	res.SuperblockPath = out.superblock
	res.Parts = len(written)
	res.Fallbacks = len(fallbacks)
	opts.Progress.Report(progress.Event{Phase: "done", Final: true})
	return res, nil
}

func modeOf(h *object.FileHeader) delta.Mode { return delta.Mode{UID: h.UID, GID: h.GID, Mode: h.Mode} }

// sign wraps the superblock in the signed form, one aay per engine.
func sign(ctx context.Context, data []byte, signers []delta.Signer) ([]byte, error) {
	byEngine := map[string][]any{}
	var engines []string
	for _, s := range signers {
		sig, err := s.Sign(ctx, data)
		if err != nil {
			return nil, err
		}
		e := s.Engine()
		if _, ok := byEngine[e]; !ok {
			engines = append(engines, e)
		}
		byEngine[e] = append(byEngine[e], sig)
	}
	var dict []gvariant.DictEntry
	for _, e := range engines {
		dict = append(dict, gvariant.DictEntry{Key: "ostree.sign." + e, Value: gvariant.NewVariant("aay", byEngine[e])})
	}
	return delta.MarshalSigned(data, dict), nil
}

// diffPairs computes the modified files' rollsum or bsdiff, bounded by
// jobs and the memory budget.
func diffPairs(ctx context.Context, r *repo.Repo, opts *Options, jobs int, sp *spool, p *plan) (map[oid.Checksum]*modified, error) {
	var todo []*fileInfo
	for _, f := range p.files {
		if p.pairs[f.sum] != nil {
			todo = append(todo, f)
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].size > todo[j].size }) // big first
	results := make([]*modified, len(todo))
	sem := semaphore.NewWeighted(opts.MemoryBudget)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	var done atomic.Int64
	for i, f := range todo {
		from := p.pairs[f.sum]
		w := min(bsdiffWeight(from.size, f.size), opts.MemoryBudget)
		if err := sem.Acquire(gctx, w); err != nil {
			break
		}
		g.Go(func() error {
			defer sem.Release(w)
			m, err := diffFile(gctx, r, opts, sp, f, from)
			if err != nil {
				return fmt.Errorf("generate: %s → %s (%s): %w", from.sum, f.sum, f.path, err)
			}
			results[i] = m
			opts.Progress.Report(progress.Event{Phase: "diffing", Done: done.Add(1), Total: int64(len(todo)), Item: f.path})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[oid.Checksum]*modified, len(todo))
	for i, f := range todo {
		out[f.sum] = results[i]
	}
	return out, nil
}

// writeParts compresses the parts in parallel into dir.
func writeParts(ctx context.Context, r *repo.Repo, opts *Options, jobs int, sp *spool, dir string, parts []*partBuilder) ([]*writtenPart, error) {
	out := make([]*writtenPart, len(parts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	var done, bytes atomic.Int64
	var total int64
	for _, p := range parts {
		total += p.estimate()
	}
	for i, p := range parts {
		g.Go(func() error {
			w, err := p.write(gctx, r, sp.f, dir)
			if err != nil {
				return fmt.Errorf("generate: part %d: %w", i, err)
			}
			out[i] = w
			opts.Progress.Report(progress.Event{Phase: "compressing", Done: done.Add(1), Total: int64(len(parts)),
				Bytes: bytes.Add(p.estimate()), TotalBytes: total})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		for _, w := range out {
			if w != nil {
				os.Remove(w.path)
			}
		}
		return nil, err
	}
	return out, nil
}

// packer assigns objects to parts.
type packer struct {
	max   int64
	cur   *partBuilder
	parts []*partBuilder
}

// start opens a new part when adding size bytes would pass the cap (a
// part always takes at least one object).
func (pk *packer) start(size int64) {
	if len(pk.cur.objects) > 0 && pk.cur.estimate()+size > pk.max {
		pk.cur = newPart()
		pk.parts = append(pk.parts, pk.cur)
	}
}

// rollsum emits ostree's sequence: o; for each match, literal bytes from
// the blob (read source unset) then w from the old object; c.
func (pk *packer) rollsum(f *fileInfo, m *modified) {
	p := pk.cur
	p.objects = append(p.objects, oid.ObjectName{Checksum: f.sum, Type: oid.File})
	p.usize += uint64(f.size)
	mi, xi := p.mode(modeOf(f.hdr)), p.xattr(f.hdr.Xattrs)
	csumOff := p.add(piece{data: m.from.Bytes()})
	p.op(delta.OpOpen, mi, xi, uint64(f.size))
	var writing int64
	reading := true // from the blob
	for _, mt := range m.rs.matches {
		if prefix := mt.toOff - writing; prefix > 0 {
			if !reading {
				p.op(delta.OpUnsetReadSource)
				reading = true
			}
			off := p.add(piece{obj: f.sum, off: writing, size: prefix})
			p.op(delta.OpWrite, uint64(prefix), off)
			writing += prefix
		}
		if reading {
			p.op(delta.OpSetReadSource, csumOff)
			reading = false
		}
		p.op(delta.OpWrite, uint64(mt.size), uint64(mt.fromOff))
		writing += mt.size
	}
	if !reading {
		p.op(delta.OpUnsetReadSource)
	}
	if rest := f.size - writing; rest > 0 {
		off := p.add(piece{obj: f.sum, off: writing, size: rest})
		p.op(delta.OpWrite, uint64(rest), off)
	}
	p.op(delta.OpClose)
}

// bsdiff emits r, o, B, c, R as ostree does.
func (pk *packer) bsdiff(f *fileInfo, m *modified) {
	p := pk.cur
	p.objects = append(p.objects, oid.ObjectName{Checksum: f.sum, Type: oid.File})
	p.usize += uint64(f.size)
	mi, xi := p.mode(modeOf(f.hdr)), p.xattr(f.hdr.Xattrs)
	csumOff := p.add(piece{data: m.from.Bytes()})
	p.op(delta.OpSetReadSource, csumOff)
	p.op(delta.OpOpen, mi, xi, uint64(f.size))
	off := p.add(piece{spool: true, off: m.patchOff, size: m.patchLen})
	p.op(delta.OpBspatch, off, uint64(m.patchLen))
	p.op(delta.OpClose)
	p.op(delta.OpUnsetReadSource)
}

// output is where the delta's files go: the repository's delta
// directory (built beside it and swapped in) or --filename's directory.
type output struct {
	r          *repo.Repo
	dir        string // where parts are written
	final      string // repository delta directory ("" for --filename)
	superblock string
}

func newOutput(r *repo.Repo, name delta.Name, filename string) (*output, error) {
	if filename != "" {
		return &output{r: r, dir: filepath.Dir(filename), superblock: filename}, nil
	}
	final := filepath.Join(r.Path(), name.Dir())
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(filepath.Dir(final), ".tmp-"+filepath.Base(final)+"-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	return &output{r: r, dir: dir, final: final, superblock: filepath.Join(final, "superblock")}, nil
}

// finish writes the superblock last, then (in the repository) swaps the
// new directory in for any old one.
func (o *output) finish(data []byte, parts int, inline, sync bool) error {
	sbPath := o.superblock
	if o.final != "" {
		sbPath = filepath.Join(o.dir, "superblock")
	}
	if err := fsutil.WriteFileAtomic(sbPath, data, 0o644, sync); err != nil {
		return err
	}
	if o.final == "" {
		if inline {
			return nil
		}
		// Parts of an earlier, larger delta written to the same place.
		for i := parts; ; i++ {
			if err := os.Remove(filepath.Join(o.dir, strconv.Itoa(i))); err != nil {
				break
			}
		}
		return nil
	}
	old := ""
	if _, err := os.Lstat(o.final); err == nil {
		old = o.dir + ".old"
		if err := os.Rename(o.final, old); err != nil {
			return err
		}
	}
	if err := os.Rename(o.dir, o.final); err != nil {
		return err
	}
	o.dir = ""
	if old != "" {
		os.RemoveAll(old)
	}
	if sync {
		return fsutil.SyncDir(filepath.Dir(o.final))
	}
	return nil
}

func (o *output) cleanup() {
	if o.final != "" && o.dir != "" {
		os.RemoveAll(o.dir)
	}
}
