package generate

import (
	"context"
	"fmt"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/traverse"
)

// fileInfo is what the planner knows of a content object.
type fileInfo struct {
	sum  oid.Checksum
	path string // first path it was reached by
	hdr  *object.FileHeader
	size int64
}

func (f *fileInfo) regular() bool { return f.hdr.Mode&object.ModeType == object.ModeReg }

// plan is the object selection of a delta.
type plan struct {
	meta     []oid.ObjectName // new dirtrees and dirmetas, in walk order
	metaPath map[oid.ObjectName]string
	files    []*fileInfo                // new content, walk order
	pairs    map[oid.Checksum]*fileInfo // new regular file → old one like it
}

// walkNew lists what commit reaches that skip does not hold.
func walkNew(ctx context.Context, r *repo.Repo, commit oid.Checksum, skip map[oid.ObjectName]bool) (meta []oid.ObjectName, metaPath map[oid.ObjectName]string, files []*fileInfo, err error) {
	metaPath = map[oid.ObjectName]string{}
	err = traverse.Walk(ctx, r, commit, 0, func(n oid.ObjectName, p string) error {
		if skip[n] {
			if n.Type == oid.DirTree {
				return traverse.SkipDir // nothing new below an old tree
			}
			return nil
		}
		switch n.Type {
		case oid.Commit:
		case oid.File:
			files = append(files, &fileInfo{sum: n.Checksum, path: p})
		default:
			meta = append(meta, n)
			metaPath[n] = p
		}
		return nil
	})
	return
}

// loadHeaders fills in the headers and sizes, in parallel.
func loadHeaders(ctx context.Context, r *repo.Repo, files []*fileInfo) error {
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	ch := make(chan *fileInfo)
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range ch {
				c, err := r.OpenContent(ctx, f.sum)
				if err != nil {
					once.Do(func() { first = err })
					continue
				}
				f.hdr, f.size = c.Header, c.Size
				c.Close()
			}
		}()
	}
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		ch <- f
	}
	close(ch)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// candidate is whether a file may be delta'd at all: not empty, and not
// already compressed (ostree skips .xz and .bz2; .gz may be --rsyncable).
func candidate(f *fileInfo) bool {
	if f.size == 0 || !f.regular() {
		return false
	}
	ext := path.Ext(f.path)
	return ext != ".xz" && ext != ".bz2"
}

// fuzzyName is the part of a basename before its first '.', ostree's
// second-chance match ("libfoo.so.1" ~ "libfoo.so.2").
func fuzzyName(base string) string {
	if i := strings.IndexByte(base, '.'); i > 0 {
		return base[:i]
	}
	return ""
}

// pairModified finds, for each new regular file, an old file of the same
// basename (else the same name before the first dot) whose size is
// within 30%; among several, the closest in size. Old files that are not
// world-readable are not used (a client might not read them).
func pairModified(ctx context.Context, r *repo.Repo, from oid.Checksum, fromSet map[oid.ObjectName]bool, news []*fileInfo) (map[oid.Checksum]*fileInfo, error) {
	want := map[string]bool{}
	for _, f := range news {
		if candidate(f) {
			b := path.Base(f.path)
			want[b] = true
			if fz := fuzzyName(b); fz != "" {
				want["\x00"+fz] = true
			}
		}
	}
	// Old regular files whose names could match.
	var olds []*fileInfo
	seen := map[oid.Checksum]bool{}
	err := traverse.Walk(ctx, r, from, 0, func(n oid.ObjectName, p string) error {
		if n.Type != oid.File || seen[n.Checksum] {
			return nil
		}
		b := path.Base(p)
		if want[b] || (fuzzyName(b) != "" && want["\x00"+fuzzyName(b)]) {
			seen[n.Checksum] = true
			olds = append(olds, &fileInfo{sum: n.Checksum, path: p})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := loadHeaders(ctx, r, olds); err != nil {
		return nil, err
	}
	byName := map[string][]*fileInfo{}
	byFuzzy := map[string][]*fileInfo{}
	for _, o := range olds {
		if !candidate(o) || o.hdr.Mode&0o004 == 0 {
			continue
		}
		b := path.Base(o.path)
		byName[b] = append(byName[b], o)
		if fz := fuzzyName(b); fz != "" {
			byFuzzy[fz] = append(byFuzzy[fz], o)
		}
	}
	pairs := map[oid.Checksum]*fileInfo{}
	for _, f := range news {
		if !candidate(f) {
			continue
		}
		lo, hi := float64(f.size)*0.7, float64(f.size)*1.3
		pick := func(list []*fileInfo) *fileInfo {
			var best *fileInfo
			for _, o := range list {
				if float64(o.size) < lo || float64(o.size) > hi {
					continue
				}
				if best == nil || absDiff(o.size, f.size) < absDiff(best.size, f.size) ||
					(absDiff(o.size, f.size) == absDiff(best.size, f.size) && o.sum.String() < best.sum.String()) {
					best = o
				}
			}
			return best
		}
		b := path.Base(f.path)
		o := pick(byName[b])
		if o == nil && fuzzyName(b) != "" {
			o = pick(byFuzzy[fuzzyName(b)])
		}
		if o != nil {
			pairs[f.sum] = o
		}
	}
	return pairs, nil
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

// makePlan selects the objects of the delta.
func makePlan(ctx context.Context, r *repo.Repo, opts *Options) (*plan, error) {
	var fromSet map[oid.ObjectName]bool
	if opts.From != nil {
		var err error
		if fromSet, err = traverse.Reachable(ctx, r, []oid.Checksum{*opts.From}, 0); err != nil {
			return nil, fmt.Errorf("generate: FROM %s: %w", opts.From, err)
		}
	}
	meta, metaPath, files, err := walkNew(ctx, r, opts.To, fromSet)
	if err != nil {
		return nil, fmt.Errorf("generate: TO %s: %w", opts.To, err)
	}
	if err := loadHeaders(ctx, r, files); err != nil {
		return nil, err
	}
	p := &plan{meta: meta, metaPath: metaPath, files: files, pairs: map[oid.Checksum]*fileInfo{}}
	if opts.From != nil {
		if p.pairs, err = pairModified(ctx, r, *opts.From, fromSet, files); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// storageSize is what an object takes in the repository (ostree's
// query_object_storage_size: the loose file's size).
func storageSize(r *repo.Repo, n oid.ObjectName) int64 {
	s, err := r.StoredSize(context.Background(), n)
	if err != nil {
		return 0
	}
	return s
}

// orderFiles sorts plain files so that similar ones sit together in a
// part (better compression): by extension, then basename, then path.
func orderFiles(fs []*fileInfo) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i].path, fs[j].path
		if ea, eb := path.Ext(a), path.Ext(b); ea != eb {
			return ea < eb
		}
		if ba, bb := path.Base(a), path.Base(b); ba != bb {
			return ba < bb
		}
		return a < b
	})
}

var _ = delta.Little
