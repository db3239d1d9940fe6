package pull

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/groveos/grove/core/internal/workq"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Errors returned by this package.
var (
	ErrBinding = errors.New("pull: commit is not bound to the requested ref")
)

// LocalOptions configure Local.
type LocalOptions struct {
	// Refs to pull (refs or commit checksums); empty pulls every local ref of src.
	Refs []string
	// Depth is how many parents to follow; -1 follows all.
	Depth int
	// Untrusted re-verifies every content checksum. Metadata is always verified.
	Untrusted bool
	// CommitMetadataOnly copies commit objects only, marking them partial.
	CommitMetadataOnly bool
	// Remote, when set, writes refs/remotes/REMOTE/REF instead of refs/heads/REF.
	Remote string
	// DisableVerifyBindings skips the ostree.ref-binding check.
	DisableVerifyBindings bool
	// Progress, when set, receives snapshots as objects are copied.
	Progress func(Progress)
}

// Progress is a snapshot of a pull, in the shape of ostree's counters.
type Progress struct {
	MetaFetched    int64 // metadata objects written
	ContentFetched int64 // content objects written
	Scanned        int64 // objects examined
	Bytes          int64 // payload bytes copied
	Commits        int   // commits requested
}

// Result says what a pull did.
type Result struct {
	Refs     map[string]oid.Checksum // requested ref (or checksum) → commit
	Progress Progress
}

type puller struct {
	src, dst *repo.Repo
	tx       *repo.Txn
	opts     LocalOptions
	seen     map[oid.ObjectName]bool
	jobs     *workq.Queue[job]
	prog     struct{ meta, content, scanned, bytes atomic.Int64 }
	commits  int
	errOnce  sync.Once
	err      error
	cancel   context.CancelFunc
}

// Local pulls from src into dst in one transaction; refs move only after
// every object is in place.
func Local(ctx context.Context, dst, src *repo.Repo, opts LocalOptions) (*Result, error) {
	refs := opts.Refs
	if len(refs) == 0 {
		all, err := src.ListRefs(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range all {
			if r.Remote == "" && !r.Mirror {
				refs = append(refs, r.Name)
			}
		}
	}
	res := &Result{Refs: map[string]oid.Checksum{}}
	for _, ref := range refs {
		var sum oid.Checksum
		var err error
		if oid.IsChecksum(ref) {
			sum, err = oid.Parse(ref)
		} else {
			if err := oid.ValidateRef(ref); err != nil {
				return nil, err
			}
			sum, err = src.ReadRef(ctx, "", ref)
		}
		if err != nil {
			return nil, fmt.Errorf("pull: %s in %s: %w", ref, src.Path(), err)
		}
		res.Refs[ref] = sum
	}

	tx, err := dst.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Abort()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &puller{src: src, dst: dst, tx: tx, opts: opts, seen: map[oid.ObjectName]bool{}, cancel: cancel}
	n := runtime.GOMAXPROCS(0)
	p.jobs = newJobQueue()
	var wg sync.WaitGroup
	var inFlight atomic.Int64 // size hints of the objects being written
	var flushOnce sync.Once
	// One more worker than cores: object creation blocks in the kernel now
	// and then, and compression should not wait for it.
	for i := 0; i < n+1; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j, ok := p.jobs.Get()
				if !ok {
					// Objects still being written by the others: sync
					// and move in what is done meanwhile.
					flushOnce.Do(func() {
						if ctx.Err() == nil {
							if err := tx.FlushIfBusy(ctx, inFlight.Load()); err != nil {
								p.fail(err)
							}
						}
					})
					break
				}
				if ctx.Err() == nil {
					inFlight.Add(j.size)
					if err := p.content(ctx, j.sum); err != nil {
						p.fail(err)
					}
					inFlight.Add(-j.size)
				}
			}
		}()
	}
	// Requested refs in a stable order, so errors are reproducible.
	names := make([]string, 0, len(res.Refs))
	for ref := range res.Refs {
		names = append(names, ref)
	}
	slices.Sort(names)
	var walkErr error
	for _, ref := range names {
		if walkErr = p.commit(ctx, ref, res.Refs[ref], opts.Depth); walkErr != nil {
			break
		}
	}
	p.jobs.Close()
	wg.Wait()
	if p.err != nil {
		walkErr = p.err // the first failure, not the cancellation it caused
	}
	if walkErr != nil {
		return nil, walkErr
	}
	for _, ref := range names {
		if oid.IsChecksum(ref) {
			continue
		}
		if err := tx.SetRef(opts.Remote, ref, res.Refs[ref]); err != nil {
			return nil, err
		}
	}
	// A metadata-only commit is marked partial before it becomes visible,
	// so fsck never meets it without the mark; complete commits lose any
	// mark a previous pull left only once all they reach is in place.
	if opts.CommitMetadataOnly {
		if err := p.markCommits(true); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	if !opts.CommitMetadataOnly {
		if err := p.markCommits(false); err != nil {
			return nil, err
		}
	}
	res.Progress = p.snapshot()
	p.report()
	return res, nil
}

func (p *puller) markCommits(partial bool) error {
	for name := range p.seen {
		if name.Type == oid.Commit {
			if err := p.dst.MarkPartial(name.Checksum, partial); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *puller) fail(err error) {
	p.errOnce.Do(func() { p.err = err; p.cancel() })
}

func (p *puller) snapshot() Progress {
	return Progress{
		MetaFetched: p.prog.meta.Load(), ContentFetched: p.prog.content.Load(),
		Scanned: p.prog.scanned.Load(), Bytes: p.prog.bytes.Load(), Commits: p.commits,
	}
}

func (p *puller) report() {
	if p.opts.Progress != nil {
		p.opts.Progress(p.snapshot())
	}
}

// meta copies one metadata object, verifying its checksum and structure,
// and returns its bytes.
func (p *puller) meta(ctx context.Context, typ oid.ObjectType, sum oid.Checksum) ([]byte, error) {
	b, err := p.src.ReadMeta(ctx, typ, sum)
	if err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	if got := oid.Sum(b); got != sum {
		return nil, &object.CorruptError{Name: oid.ObjectName{Checksum: sum, Type: typ}, Actual: got}
	}
	name := oid.ObjectName{Checksum: sum, Type: typ}
	if ok, err := p.tx.Has(ctx, name); err != nil {
		return nil, err
	} else if !ok {
		if _, err := p.tx.WriteMeta(ctx, typ, b); err != nil {
			return nil, err
		}
		p.prog.meta.Add(1)
	}
	return b, nil
}

func (p *puller) commit(ctx context.Context, ref string, sum oid.Checksum, depth int) error {
	for {
		name := oid.ObjectName{Checksum: sum, Type: oid.Commit}
		if p.seen[name] {
			return nil
		}
		p.seen[name] = true
		p.commits++
		b, err := p.meta(ctx, oid.Commit, sum)
		if err != nil {
			return err
		}
		c, err := object.UnmarshalCommit(b)
		if err != nil {
			return fmt.Errorf("pull: %s.commit: %w", sum, err)
		}
		if ref != "" && !oid.IsChecksum(ref) && !p.opts.DisableVerifyBindings {
			if err := verifyBinding(c, ref); err != nil {
				return err
			}
		}
		if d, err := p.src.ReadMeta(ctx, oid.CommitMeta, sum); err == nil {
			if err := p.tx.WriteCommitMeta(ctx, sum, d); err != nil {
				return err
			}
		} else if !errors.Is(err, repo.ErrNotFound) {
			return err
		}
		complete := false
		if has, _ := p.dst.HasObject(ctx, name); has && !p.dst.IsPartial(sum) {
			complete = true // everything it reaches is already here
		}
		if !p.opts.CommitMetadataOnly && !complete {
			if _, err := p.meta(ctx, oid.DirMeta, c.RootMeta); err != nil {
				return err
			}
			if err := p.tree(ctx, c.RootTree); err != nil {
				return err
			}
		}
		p.report()
		if !c.HasParent() || depth == 0 {
			return nil
		}
		if depth > 0 {
			depth--
		}
		if ok, _ := p.src.HasObject(ctx, oid.ObjectName{Checksum: c.Parent, Type: oid.Commit}); !ok {
			return nil // history truncated in the source, as after a shallow pull
		}
		sum, ref = c.Parent, ""
	}
}

func verifyBinding(c *object.Commit, ref string) error {
	v, ok := c.Lookup(object.MetaRefBinding)
	if !ok {
		return nil
	}
	bound, _ := v.Value.([]any)
	var names []string
	for _, b := range bound {
		if s, ok := b.(string); ok {
			if s == ref {
				return nil
			}
			names = append(names, s)
		}
	}
	if ss, ok := v.Value.([]string); ok {
		if slices.Contains(ss, ref) {
			return nil
		}
		names = ss
	}
	return fmt.Errorf("%w: commit has no requested ref %q in ref binding metadata (%v)", ErrBinding, ref, names)
}

func (p *puller) tree(ctx context.Context, sum oid.Checksum) error {
	name := oid.ObjectName{Checksum: sum, Type: oid.DirTree}
	if p.seen[name] {
		return nil
	}
	p.seen[name] = true
	b, err := p.meta(ctx, oid.DirTree, sum)
	if err != nil {
		return err
	}
	dt, err := object.UnmarshalDirTree(b)
	if err != nil {
		return fmt.Errorf("pull: %s.dirtree: %w", sum, err)
	}
	for _, f := range dt.Files {
		fn := oid.ObjectName{Checksum: f.Checksum, Type: oid.File}
		if p.seen[fn] {
			continue
		}
		p.seen[fn] = true
		p.prog.scanned.Add(1)
		if err := ctx.Err(); err != nil {
			return err
		}
		p.jobs.Put(job{f.Checksum, p.sizeHint(ctx, fn)})
	}
	for _, d := range dt.Dirs {
		mn := oid.ObjectName{Checksum: d.Meta, Type: oid.DirMeta}
		if !p.seen[mn] {
			p.seen[mn] = true
			if _, err := p.meta(ctx, oid.DirMeta, d.Meta); err != nil {
				return err
			}
		}
		if err := p.tree(ctx, d.Tree); err != nil {
			return err
		}
	}
	return nil
}

// content copies one content object unless dst has it.
func (p *puller) content(ctx context.Context, sum oid.Checksum) error {
	name := oid.ObjectName{Checksum: sum, Type: oid.File}
	if ok, err := p.tx.Has(ctx, name); err != nil || ok {
		return err
	}
	if !p.opts.Untrusted {
		// A trusted source of the same storage format: the loose file can
		// be copied (or linked) as it is.
		if ok, err := p.tx.AdoptFrom(ctx, p.src, name); err != nil || ok {
			if ok {
				p.prog.content.Add(1)
			}
			return err
		}
	}
	c, err := p.src.OpenContent(ctx, sum)
	if err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	defer c.Close()
	write := p.tx.WriteContentAs
	if !p.opts.Untrusted {
		// Like ostree, a trusted local pull takes the source's checksum
		// for the content's (metadata is verified either way).
		write = p.tx.WriteContentTrusted
	}
	if err := write(ctx, sum, c.Header, c, c.Size); err != nil {
		return fmt.Errorf("pull: %s: %w", name, err)
	}
	p.prog.content.Add(1)
	p.prog.bytes.Add(c.Size)
	return nil
}
