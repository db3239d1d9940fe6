package apply

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
	"golang.org/x/sync/errgroup"
)

// Errors returned by this package.
var (
	ErrFromMissing = errors.New("apply: delta source commit missing")
	ErrFallback    = errors.New("apply: fallback objects")
	ErrDigest      = errors.New("apply: superblock digest mismatch")
	ErrReadSource  = errors.New("apply: read source")
	ErrIncomplete  = errors.New("apply: delta incomplete")
)

// DefaultMemoryBudget bounds the part payloads held at once.
const DefaultMemoryBudget = 512 << 20

// maxPayload is the most any one part may decompress to.
const maxPayload = 2 << 30

// Options tune Open and Execute.
type Options struct {
	// Digest, when set, is the SHA-256 the superblock file must have
	// (from a summary or delta index).
	Digest *oid.Checksum
	// Verify, when set, decides whether the superblock is acceptable: it
	// gets the wrapper of a signed superblock, or nil for an unsigned one.
	Verify func(signed *delta.Signed) error
	// Fallback fetches the fallback objects the repository lacks into
	// tx; nil means they must all be present already.
	Fallback func(ctx context.Context, tx *repo.Txn, missing []delta.Fallback) error
	// Jobs bounds the objects written at once; 0 means GOMAXPROCS.
	Jobs int
	// MemoryBudget bounds the bytes of part payload held at once (one part
	// is always allowed); 0 means DefaultMemoryBudget.
	MemoryBudget int64
	// Progress receives "delta parts" events: parts and part bytes done.
	Progress progress.Func
}

// Delta is an opened delta: its superblock, checked.
type Delta struct {
	Superblock *delta.Superblock
	Signed     *delta.Signed // nil when unsigned
	Raw        []byte        // the superblock file
}

// Open fetches the superblock, checks its digest when one is expected,
// decodes it and applies the signature policy.
func Open(ctx context.Context, src Source, opts Options) (*Delta, error) {
	raw, err := src.Superblock(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Digest != nil {
		if got := oid.Sum(raw); got != *opts.Digest {
			return nil, fmt.Errorf("%w: expected %s, got %s", ErrDigest, opts.Digest, got)
		}
	}
	sb, signed, err := delta.ParseFile(raw)
	if err != nil {
		return nil, err
	}
	if opts.Verify != nil {
		if err := opts.Verify(signed); err != nil {
			return nil, err
		}
	}
	return &Delta{Superblock: sb, Signed: signed, Raw: raw}, nil
}

// Stats says what Execute did.
type Stats struct {
	Parts, PartsSkipped int
	Objects             int64 // objects written or found present
	PartBytes           int64 // part file bytes processed
}

// Execute applies the delta into tx: checks that FROM is present, writes
// the TO commit (marking it partial first, so that a crash leaves a
// repository fsck accepts) and its detached metadata, brings in fallback
// objects, then runs every part whose objects are not all present. The
// caller commits tx, checks completeness and clears the partial mark
// (Offline does all of that).
func (d *Delta) Execute(ctx context.Context, tx *repo.Txn, src Source, opts Options) (*Stats, error) {
	sb := d.Superblock
	r := tx.Repo()
	if !sb.From.IsZero() {
		ok, err := tx.Has(ctx, oid.ObjectName{Checksum: sb.From, Type: oid.Commit})
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: Commit %s, which is the delta source, is not in repository", ErrFromMissing, sb.From)
		}
	}
	for _, h := range sb.Parts {
		if h.Version > delta.PartVersion {
			return nil, fmt.Errorf("%w: Delta part has too new version %d", delta.ErrCorrupt, h.Version)
		}
	}
	toName := oid.ObjectName{Checksum: sb.To, Type: oid.Commit}
	have, err := tx.Has(ctx, toName)
	if err != nil {
		return nil, err
	}
	if !have {
		if err := r.MarkPartial(sb.To, true); err != nil {
			return nil, err
		}
		if sb.CommitMeta != nil {
			if err := tx.WriteCommitMeta(ctx, sb.To, sb.CommitMeta); err != nil {
				return nil, err
			}
		}
		if _, err := tx.WriteMeta(ctx, oid.Commit, sb.Commit); err != nil {
			return nil, err
		}
	}
	var missing []delta.Fallback
	for _, f := range sb.Fallbacks {
		ok, err := tx.Has(ctx, f.Object)
		if err != nil {
			return nil, err
		}
		if !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		if opts.Fallback == nil {
			return nil, fmt.Errorf("%w: Cannot execute delta offline: contains nonempty http fallback entries (%d objects missing)", ErrFallback, len(missing))
		}
		if err := opts.Fallback(ctx, tx, missing); err != nil {
			return nil, err
		}
	}
	return d.runParts(ctx, tx, src, opts)
}

func (d *Delta) runParts(ctx context.Context, tx *repo.Txn, src Source, opts Options) (*Stats, error) {
	sb := d.Superblock
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	budget := opts.MemoryBudget
	if budget <= 0 {
		budget = DefaultMemoryBudget
	}
	st := &Stats{Parts: len(sb.Parts)}
	var totalBytes int64
	for _, h := range sb.Parts {
		totalBytes += int64(h.Size)
	}
	var partsDone, bytesDone, objects atomic.Int64
	report := func(final bool) {
		opts.Progress.Report(progress.Event{Phase: "delta parts", Done: partsDone.Load(), Total: int64(len(sb.Parts)),
			Bytes: bytesDone.Load(), TotalBytes: totalBytes, Final: final})
	}
	report(false)

	g, gctx := errgroup.WithContext(ctx)
	steps := make(chan func() error)
	for range jobs {
		g.Go(func() error {
			for f := range steps {
				if err := f(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	mem := newBudget(budget)
	var parts sync.WaitGroup
	var skipped atomic.Int64
	feedErr := func() error {
		defer func() { parts.Wait(); close(steps) }()
		for i, h := range sb.Parts {
			have, err := haveAll(gctx, tx, h.Objects)
			if err != nil {
				return err
			}
			if have {
				skipped.Add(1)
				partsDone.Add(1)
				bytesDone.Add(int64(h.Size))
				objects.Add(int64(len(h.Objects)))
				report(false)
				continue
			}
			limit := delta.PayloadLimit(h, maxPayload)
			weight := min(limit+int64(h.Size), budget)
			if err := mem.acquire(gctx, weight); err != nil {
				return err
			}
			data, err := d.partBytes(gctx, src, i, h)
			if err != nil {
				mem.release(weight)
				return fmt.Errorf("delta part %d: %w", i, err)
			}
			parts.Add(1)
			// Decompress, parse and run the part; its steps go to the pool.
			g.Go(func() error {
				defer parts.Done()
				defer mem.release(weight)
				err := d.runPart(gctx, tx, i, h, data, limit, steps, &objects)
				if err != nil {
					return fmt.Errorf("Executing delta part %d: %w", i, err)
				}
				partsDone.Add(1)
				bytesDone.Add(int64(h.Size))
				report(false)
				return nil
			})
		}
		return nil
	}()
	if feedErr != nil {
		g.Go(func() error { return feedErr })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	st.PartsSkipped = int(skipped.Load())
	st.Objects = objects.Load()
	st.PartBytes = bytesDone.Load()
	report(true)
	return st, nil
}

func (d *Delta) partBytes(ctx context.Context, src Source, i int, h delta.PartHeader) ([]byte, error) {
	if p, ok := d.Superblock.Inline[i]; ok {
		return p, nil
	}
	return src.Part(ctx, i, h)
}

// runPart opens one part and hands its steps to the pool, waiting for
// them. The part's checksum is checked before decompression (inline parts
// are covered by the superblock).
func (d *Delta) runPart(ctx context.Context, tx *repo.Txn, i int, h delta.PartHeader, data []byte, limit int64, steps chan<- func() error, objects *atomic.Int64) error {
	want := &h.Checksum
	if _, inline := d.Superblock.Inline[i]; inline {
		want = nil
	}
	pl, err := delta.OpenPart(data, want, limit)
	if err != nil {
		return err
	}
	prog, err := delta.Parse(pl, h.Objects)
	if err != nil {
		return err
	}
	srcs := newSources(tx.Repo())
	defer srcs.close()
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for k := range prog.Steps {
		step := &prog.Steps[k]
		wg.Add(1)
		f := func() error {
			defer wg.Done()
			err := writeStep(ctx, tx, pl, step, srcs)
			if err != nil {
				err = fmt.Errorf("object %s: %w", step.Object, err)
				once.Do(func() { first = err })
				return err
			}
			objects.Add(1)
			return nil
		}
		select {
		case steps <- f:
		case <-ctx.Done():
			wg.Done()
			wg.Wait()
			return ctx.Err()
		}
	}
	wg.Wait()
	return first
}

func haveAll(ctx context.Context, tx *repo.Txn, objs []oid.ObjectName) (bool, error) {
	for _, o := range objs {
		ok, err := tx.Has(ctx, o)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// budget is a counting semaphore of bytes; a request larger than the
// whole budget waits until nothing else is held.
type budget struct {
	mu    sync.Mutex
	cond  *sync.Cond
	total int64
	used  int64
}

func newBudget(total int64) *budget {
	b := &budget{total: total}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *budget) acquire(ctx context.Context, n int64) error {
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.cond.Broadcast()
		b.mu.Unlock()
	})
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used > 0 && b.used+n > b.total {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.cond.Wait()
	}
	b.used += n
	return ctx.Err()
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.cond.Broadcast()
	b.mu.Unlock()
}
