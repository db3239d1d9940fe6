package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groveos/grove/core/internal/workq"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
)

// Errors returned by this package.
var (
	ErrNotFound  = errors.New("pull: not found")
	ErrBinding   = errors.New("pull: commit is not bound to the requested ref")
	ErrTimestamp = errors.New("pull: commit is older than the current one")
	ErrNoDelta   = errors.New("pull: no static delta")
)

// Options configure Pull.
type Options struct {
	// Refs to pull: "REF", "REF@CHECKSUM" (pull that commit and point REF
	// at it) or a commit checksum (no ref is written). Empty pulls every
	// ref the source lists.
	Refs []string
	// Depth is how many parents to follow; -1 follows all.
	Depth int
	// Trusted takes content checksums from the source as given (a local
	// repository, as ostree's trusted imports). Metadata is always
	// verified.
	Trusted bool
	// CommitMetadataOnly stores commit objects only, marked partial.
	CommitMetadataOnly bool
	// Subpaths, when set, pulls only these paths of each commit's tree
	// (and the directories leading to them); the commits stay partial.
	Subpaths []string
	// Remote, when set, writes refs/remotes/REMOTE/REF instead of
	// refs/heads/REF.
	Remote string
	// DisableVerifyBindings skips the ostree.ref-binding check.
	DisableVerifyBindings bool
	// TimestampCheck refuses a commit older than the one the ref points at
	// now (ostree pull --timestamp-check).
	TimestampCheck bool
	// Verify, when set, checks each commit before anything of it is
	// stored: data is the commit object, detached its detached metadata
	// (nil if it has none). Signature checks (GPG, ed25519) go here.
	Verify func(ctx context.Context, commit oid.Checksum, data, detached []byte) error
	// Delta, when set, is offered each requested commit that is not here
	// yet before its objects are fetched one by one.
	Delta DeltaFunc
	// RequireDelta fails the pull when Delta brings nothing.
	RequireDelta bool
	// DryRun is passed to Delta: report what would be fetched, store
	// nothing (ostree's --dry-run, which needs static deltas).
	DryRun bool
	// Progress receives events as objects are scanned and stored.
	Progress progress.Func
	// Checkpoint, when set, moves the objects verified so far into the
	// repository this often while the pull runs (a network pull), so that
	// even a killed pull leaves them for the next one.
	Checkpoint time.Duration
	// LocalCaches are repositories on this machine to take objects from
	// before asking the source (pull --localcache-repo); what they give is
	// verified like anything else.
	LocalCaches []*repo.Repo
}

// DeltaFunc tries to bring req.To, and everything it reaches, into req.Tx
// with a static delta read from req.Src. It reports false when no delta
// applies; Pull then fetches objects. After a delta Pull flushes the
// transaction and walks the commit as usual: anything the delta did not
// bring is fetched, and everything is checked to be present.
type DeltaFunc func(ctx context.Context, req DeltaRequest) (applied bool, err error)

// DeltaRequest is what a DeltaFunc is asked to do.
type DeltaRequest struct {
	Src      Source
	Tx       *repo.Txn
	Ref      string       // the requested ref, "" for a bare checksum
	From     oid.Checksum // the destination's current commit for Ref; zero if none
	To       oid.Checksum
	DryRun   bool
	Progress progress.Func
}

// Stats count what a pull did.
type Stats struct {
	MetaFetched    int64 // metadata objects stored
	ContentFetched int64 // content objects stored
	Scanned        int64 // objects examined
	Bytes          int64 // bytes moved (compressed bytes for raw archive objects)
	Commits        int   // commits scanned
	Local          int64 // objects taken from Options.LocalCaches
	ContentWritten int64 // payload bytes of the content objects written
}

// Result says what a pull did.
type Result struct {
	Refs  map[string]oid.Checksum // requested ref (or checksum) → commit
	Stats Stats
}

// Pull copies the commits opts.Refs name, and everything they reach, from
// src into dst in one transaction: metadata verified (hash, normal form,
// structure, dirtree names), content verified unless opts.Trusted, each
// commit marked partial before anything of it is stored and unmarked
// once all it reaches is in place; refs move only after every object is
// in and synced. Objects dst has are not fetched again, so an
// interrupted pull resumes where it stopped.
func Pull(ctx context.Context, dst *repo.Repo, src Source, opts Options) (*Result, error) {
	res := &Result{Refs: map[string]oid.Checksum{}}
	refs, err := resolve(ctx, src, opts.Refs)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		res.Refs[r.spec] = r.commit
	}
	subpaths, err := cleanSubpaths(opts.Subpaths)
	if err != nil {
		return nil, err
	}

	tx, err := dst.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Abort()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &puller{
		src: src, dst: dst, tx: tx, opts: opts, subpaths: subpaths, cancel: cancel,
		seen: map[oid.ObjectName]bool{}, walked: map[oid.Checksum]bool{},
		archive: dst.Mode() == repo.ModeArchive, start: time.Now(),
	}
	p.adopter, _ = src.(Adopter)
	p.raw, _ = src.(RawArchiver)
	p.sizer, _ = src.(SizeHinter)
	nMeta, nContent := 1, runtime.GOMAXPROCS(0)+1
	if c, ok := src.(Concurrent); ok {
		nMeta, nContent = c.Concurrency()
	}
	p.meta.init()
	p.jobs = newJobQueue()
	for _, r := range refs {
		if !p.seen[commitName(r.commit)] {
			p.seen[commitName(r.commit)] = true
			p.meta.put(metaJob{name: commitName(r.commit), ref: r.ref, depth: opts.Depth})
		}
	}
	p.report("fetching", false)

	var contentWG, metaWG sync.WaitGroup
	var inFlight atomic.Int64 // size hints of the objects being written
	var flushOnce sync.Once
	for range nContent {
		contentWG.Add(1)
		go func() {
			defer contentWG.Done()
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
					return
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
	for range nMeta {
		metaWG.Add(1)
		go func() {
			defer metaWG.Done()
			for {
				j, ok := p.meta.get()
				if !ok {
					return
				}
				if ctx.Err() == nil {
					if err := p.scan(ctx, j); err != nil {
						p.fail(err)
					}
				}
				p.meta.done()
			}
		}()
	}
	stopCheckpoints := p.checkpoints(ctx)
	metaWG.Wait()
	p.jobs.Close()
	contentWG.Wait()
	stopCheckpoints()
	err = p.firstErr()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		if !opts.DryRun {
			// What was stored is verified: keep it, without moving any
			// ref, so that the next pull starts from there. The commits
			// stay marked partial.
			_ = tx.Commit(context.WithoutCancel(ctx))
		}
		return nil, err
	}
	if opts.DryRun {
		res.Stats = p.stats()
		return res, nil
	}
	p.report("writing", false)
	for _, r := range refs {
		if r.ref == "" {
			continue
		}
		if cur, err := dst.ReadRef(ctx, opts.Remote, r.ref); err == nil && cur == r.commit {
			continue // up to date: no write, no sync
		}
		if err := tx.SetRef(opts.Remote, r.ref, r.commit); err != nil {
			return nil, err
		}
	}
	written := tx.Stats().ContentBytes
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	// Commits whose whole tree is in place lose the mark only now that
	// their objects are durable.
	if !opts.CommitMetadataOnly && len(subpaths) == 0 {
		for sum := range p.walked {
			if err := dst.MarkPartial(sum, false); err != nil {
				return nil, err
			}
		}
	}
	res.Stats = p.stats()
	res.Stats.ContentWritten = written
	p.report("done", true)
	return res, nil
}

type requested struct {
	spec   string // as given
	ref    string // "" for a bare checksum
	commit oid.Checksum
}

// resolve turns requested refs into commits, through the source.
func resolve(ctx context.Context, src Source, specs []string) ([]requested, error) {
	if len(specs) == 0 {
		all, err := src.Refs(ctx)
		if err != nil {
			return nil, err
		}
		for name := range all {
			specs = append(specs, name)
		}
	}
	var out []requested
	for _, spec := range specs {
		r := requested{spec: spec}
		var err error
		switch ref, at, ok := strings.Cut(spec, "@"); {
		case ok:
			if err := oid.ValidateRef(ref); err != nil {
				return nil, err
			}
			if r.commit, err = oid.Parse(at); err != nil {
				return nil, err
			}
			r.ref = ref
		case oid.IsChecksum(spec):
			r.commit, err = oid.Parse(spec)
		default:
			if err := oid.ValidateRef(spec); err != nil {
				return nil, err
			}
			r.ref = spec
			r.commit, err = src.ResolveRef(ctx, spec) // errors name the ref and the source
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	// A stable order, so that errors are reproducible.
	slices.SortFunc(out, func(a, b requested) int { return strings.Compare(a.spec, b.spec) })
	return out, nil
}

type puller struct {
	src      Source
	dst      *repo.Repo
	tx       *repo.Txn
	opts     Options
	subpaths []string
	archive  bool // the destination stores .filez objects
	adopter  Adopter
	raw      RawArchiver
	sizer    SizeHinter
	meta     metaQueue
	jobs     *workq.Queue[job]
	start    time.Time

	mu     sync.Mutex
	seen   map[oid.ObjectName]bool
	walked map[oid.Checksum]bool // commits whose tree this pull walks

	prog struct{ meta, content, local, scanned, done, bytes, commits atomic.Int64 }

	errOnce sync.Once
	err     error
	cancel  context.CancelFunc
	repMu   sync.Mutex
}

func commitName(sum oid.Checksum) oid.ObjectName {
	return oid.ObjectName{Checksum: sum, Type: oid.Commit}
}

func (p *puller) fail(err error) {
	p.errOnce.Do(func() { p.err = err; p.cancel() })
}

// checkpoints flushes the transaction every opts.Checkpoint until the
// returned function is called (which waits for a flush under way: Commit
// must not overlap one).
func (p *puller) checkpoints(ctx context.Context) func() {
	if p.opts.Checkpoint <= 0 || p.opts.DryRun {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(p.opts.Checkpoint)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := p.tx.Flush(ctx); err != nil && ctx.Err() == nil {
					p.fail(err)
				}
			}
		}
	}()
	return func() { close(stop); <-done }
}

// firstErr is the first failure, not the cancellations it caused; it is
// final once every worker is done.
func (p *puller) firstErr() error { return p.err }

func (p *puller) stats() Stats {
	return Stats{
		MetaFetched: p.prog.meta.Load(), ContentFetched: p.prog.content.Load(),
		Scanned: p.prog.scanned.Load(), Bytes: p.prog.bytes.Load(), Commits: int(p.prog.commits.Load()),
		Local: p.prog.local.Load(),
	}
}

func (p *puller) report(phase string, final bool) {
	if p.opts.Progress == nil {
		return
	}
	p.repMu.Lock()
	defer p.repMu.Unlock()
	p.opts.Progress(progress.Event{
		Phase: phase, Done: p.prog.done.Load(), Total: p.prog.scanned.Load(),
		Bytes: p.prog.bytes.Load(), Final: final,
	})
}

// markSeen reports whether name is new to this pull, and notes it.
func (p *puller) markSeen(name oid.ObjectName) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen[name] {
		return false
	}
	p.seen[name] = true
	return true
}

// wrap names the source and the object in an error.
func (p *puller) wrap(name oid.ObjectName, err error) error {
	var ce *object.CorruptError
	if errors.As(err, &ce) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("pull: %s: %w", p.src.Name(), err)
	}
	return fmt.Errorf("pull: %s: %s: %w", p.src.Name(), name, err)
}

// fetchMeta returns a metadata object's bytes: from the destination when
// it has them (verified when stored), else from the source, checked
// against the name. stored says which.
func (p *puller) fetchMeta(ctx context.Context, name oid.ObjectName) (b []byte, stored bool, err error) {
	if ok, err := p.tx.Has(ctx, name); err != nil {
		return nil, false, err
	} else if ok {
		// Stored, or staged by this transaction (a delta): read here.
		if b, err := p.tx.ReadMeta(ctx, name.Type, name.Checksum); err == nil {
			return b, true, nil
		}
	}
	b = p.fromCacheMeta(ctx, name)
	if b == nil {
		if b, err = p.src.ReadMeta(ctx, name); err != nil {
			return nil, false, err
		}
	}
	if got := oid.Sum(b); got != name.Checksum {
		return nil, false, &object.CorruptError{Name: name, Actual: got}
	}
	return b, false, nil
}

// store stages a verified metadata object.
func (p *puller) store(ctx context.Context, name oid.ObjectName, b []byte) error {
	if _, err := p.tx.WriteMeta(ctx, name.Type, b); err != nil {
		return err
	}
	p.prog.meta.Add(1)
	p.prog.bytes.Add(int64(len(b)))
	return nil
}

func (p *puller) scan(ctx context.Context, j metaJob) error {
	var err error
	switch j.name.Type {
	case oid.Commit:
		err = p.commit(ctx, j)
	case oid.DirTree:
		err = p.dirtree(ctx, j)
	case oid.DirMeta:
		err = p.dirmeta(ctx, j)
	}
	p.prog.done.Add(1)
	p.report("fetching", false)
	if err != nil {
		return p.wrap(j.name, err)
	}
	return nil
}

func (p *puller) commit(ctx context.Context, j metaJob) error {
	sum := j.name.Checksum
	p.prog.scanned.Add(1)
	p.prog.commits.Add(1)
	have, err := p.tx.Has(ctx, j.name)
	if err != nil {
		return err
	}
	complete := have && !p.dst.IsPartial(sum)
	if !have && !p.opts.DryRun {
		// Marked before anything of it lands, so that neither fsck nor the
		// next pull takes a half-pulled commit for a complete one.
		if err := p.dst.MarkPartial(sum, true); err != nil {
			return err
		}
	}
	// A delta is for whole commits: not for --commit-metadata-only.
	if !have && j.ref != "" && p.opts.Delta != nil && !p.opts.CommitMetadataOnly {
		from, _ := p.dst.ReadRef(ctx, p.opts.Remote, j.ref)
		applied, err := p.opts.Delta(ctx, DeltaRequest{
			Src: p.src, Tx: p.tx, Ref: j.ref, From: from, To: sum,
			DryRun: p.opts.DryRun, Progress: p.opts.Progress,
		})
		if err != nil {
			return err
		}
		if p.opts.DryRun {
			return nil
		}
		if applied {
			if err := p.tx.Flush(ctx); err != nil {
				return err
			}
		} else if p.opts.RequireDelta {
			return fmt.Errorf("%w for %s", ErrNoDelta, sum)
		}
	} else if !have && p.opts.RequireDelta && j.ref != "" {
		return fmt.Errorf("%w for %s", ErrNoDelta, sum)
	}

	// Detached metadata (signatures) comes first: Verify needs it.
	var detached, newDetached []byte
	detachedName := oid.ObjectName{Checksum: sum, Type: oid.CommitMeta}
	if !complete {
		d, stored, err := p.fetchDetached(ctx, detachedName)
		if err != nil {
			return err
		}
		if d != nil && !stored {
			if _, err := object.UnmarshalMeta(d); err != nil {
				return fmt.Errorf("%s: %w", detachedName, err)
			}
			newDetached = d
		}
		detached = d
	}
	b, stored, err := p.fetchMeta(ctx, j.name)
	if err != nil {
		if errors.Is(err, ErrNotFound) && j.parent {
			return nil // a parent the source does not have: history ends here
		}
		return err
	}
	c, err := object.UnmarshalCommit(b)
	if err != nil {
		return err
	}
	if j.ref != "" && !p.opts.DisableVerifyBindings {
		if err := verifyBinding(c, j.ref); err != nil {
			return err
		}
	}
	if !complete && p.opts.Verify != nil {
		if err := p.opts.Verify(ctx, sum, b, detached); err != nil {
			return err
		}
	}
	if j.ref != "" && p.opts.TimestampCheck {
		if err := p.checkTimestamp(ctx, j.ref, sum, c); err != nil {
			return err
		}
	}
	if newDetached != nil && !p.opts.DryRun {
		if err := p.tx.WriteCommitMeta(ctx, sum, newDetached); err != nil {
			return err
		}
	}
	if !stored && !p.opts.DryRun {
		if err := p.store(ctx, j.name, b); err != nil {
			return err
		}
	}
	if !complete && !p.opts.CommitMetadataOnly {
		p.mu.Lock()
		p.walked[sum] = true
		p.mu.Unlock()
		p.queueMeta(oid.ObjectName{Checksum: c.RootMeta, Type: oid.DirMeta}, "")
		p.queueMeta(oid.ObjectName{Checksum: c.RootTree, Type: oid.DirTree}, "/")
	}
	if c.HasParent() && j.depth != 0 {
		depth := j.depth
		if depth > 0 {
			depth--
		}
		parent := commitName(c.Parent)
		if p.markSeen(parent) {
			p.meta.put(metaJob{name: parent, depth: depth, parent: true})
		}
	}
	return nil
}

// fetchDetached returns a commit's detached metadata, nil if it has none.
func (p *puller) fetchDetached(ctx context.Context, name oid.ObjectName) ([]byte, bool, error) {
	if b, err := p.dst.ReadMeta(ctx, name.Type, name.Checksum); err == nil {
		return b, true, nil
	}
	b, err := p.src.ReadMeta(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	return b, false, err
}

func (p *puller) checkTimestamp(ctx context.Context, ref string, sum oid.Checksum, c *object.Commit) error {
	cur, err := p.dst.ReadRef(ctx, p.opts.Remote, ref)
	if err != nil {
		return nil // nothing to be older than
	}
	old, err := p.dst.LoadCommit(ctx, cur)
	if err != nil {
		return fmt.Errorf("reading %s for timestamp-check: %w", ref, err)
	}
	if c.Timestamp > old.Timestamp || c.Timestamp == old.Timestamp || cur == sum {
		return nil
	}
	const layout = "Mon Jan _2 15:04:05 2006"
	return fmt.Errorf("%w: Upgrade target revision '%s' with timestamp '%s' is chronologically older than current revision '%s' with timestamp '%s'; use --allow-downgrade to permit",
		ErrTimestamp, sum, c.Time().Format(layout), cur, old.Time().Format(layout))
}

func (p *puller) queueMeta(name oid.ObjectName, path string) {
	if p.markSeen(name) {
		p.meta.put(metaJob{name: name, path: path})
	}
}

func (p *puller) dirmeta(ctx context.Context, j metaJob) error {
	p.prog.scanned.Add(1)
	b, stored, err := p.fetchMeta(ctx, j.name)
	if err != nil {
		return err
	}
	if stored {
		return nil
	}
	if _, err := object.UnmarshalDirMeta(b); err != nil {
		return err
	}
	return p.store(ctx, j.name, b)
}

func (p *puller) dirtree(ctx context.Context, j metaJob) error {
	p.prog.scanned.Add(1)
	b, stored, err := p.fetchMeta(ctx, j.name)
	if err != nil {
		return err
	}
	dt, err := object.UnmarshalDirTree(b) // names: no "", ".", "..", "/"
	if err != nil {
		return err
	}
	if !stored {
		if err := p.store(ctx, j.name, b); err != nil {
			return err
		}
	}
	for _, f := range dt.Files {
		if !p.wanted(j.path+f.Name, false) {
			continue
		}
		fn := oid.ObjectName{Checksum: f.Checksum, Type: oid.File}
		if !p.markSeen(fn) {
			continue
		}
		p.prog.scanned.Add(1)
		var size int64
		if p.sizer != nil {
			size = p.sizer.SizeHint(fn)
		}
		p.jobs.Put(job{f.Checksum, size})
	}
	for _, d := range dt.Dirs {
		if !p.wanted(j.path+d.Name, true) {
			continue
		}
		p.queueMeta(oid.ObjectName{Checksum: d.Meta, Type: oid.DirMeta}, "")
		p.queueMeta(oid.ObjectName{Checksum: d.Tree, Type: oid.DirTree}, j.path+d.Name+"/")
	}
	return nil
}

// content stores one content object unless dst has it.
func (p *puller) content(ctx context.Context, sum oid.Checksum) error {
	name := oid.ObjectName{Checksum: sum, Type: oid.File}
	err := p.storeContent(ctx, name)
	p.prog.done.Add(1)
	p.report("fetching", false)
	if err != nil {
		return p.wrap(name, err)
	}
	return nil
}

func (p *puller) storeContent(ctx context.Context, name oid.ObjectName) error {
	sum := name.Checksum
	if ok, err := p.tx.Has(ctx, name); err != nil || ok {
		return err
	}
	if p.opts.DryRun {
		return nil
	}
	if p.opts.Trusted && p.adopter != nil {
		// Same storage format and a trusted source: the loose file can be
		// taken over (linked or copied) as it is.
		if ok, err := p.adopter.Adopt(ctx, p.tx, name); err != nil || ok {
			if ok {
				p.prog.content.Add(1)
			}
			return err
		}
	}
	if ok, err := p.fromCacheContent(ctx, name); err != nil || ok {
		return err
	}
	if p.archive && p.raw != nil {
		var n int64
		err := p.raw.ReadRawArchive(ctx, sum, func(r io.Reader) error {
			return p.tx.WriteArchiveRaw(ctx, sum, func(w io.Writer) error {
				var err error
				n, err = copyArchive(w, r, sum, !p.opts.Trusted)
				return err
			})
		})
		if err != nil {
			return err
		}
		p.prog.content.Add(1)
		p.prog.bytes.Add(n)
		return nil
	}
	write := p.tx.WriteContentAs
	if p.opts.Trusted {
		// Like ostree, a trusted pull takes the source's checksum for the
		// content's (metadata is verified either way).
		write = p.tx.WriteContentTrusted
	}
	var size int64
	err := p.src.ReadContent(ctx, sum, func(c *Content) error {
		size = c.Size
		return write(ctx, sum, c.Header, c.Reader, c.Size)
	})
	if err != nil {
		return err
	}
	p.prog.content.Add(1)
	p.prog.bytes.Add(size)
	return nil
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

// cleanSubpaths makes each --subpath absolute, without a trailing slash;
// "/" means the whole tree, so no filter at all.
func cleanSubpaths(ps []string) ([]string, error) {
	var out []string
	for _, s := range ps {
		if s == "" {
			return nil, fmt.Errorf("pull: empty --subpath")
		}
		c := path.Clean("/" + s)
		if c == "/" {
			return nil, nil
		}
		out = append(out, c)
	}
	return out, nil
}

// wanted says whether a path of the tree is pulled under --subpath: the
// subpaths themselves, what is below them, and the directories leading to
// them (ostree's matches_pull_dir).
func (p *puller) wanted(file string, isDir bool) bool {
	if len(p.subpaths) == 0 {
		return true
	}
	for _, dir := range p.subpaths {
		if rest, ok := strings.CutPrefix(dir, file); ok {
			if rest == "" || rest[0] == '/' && isDir {
				return true
			}
			continue
		}
		if rest, ok := strings.CutPrefix(file, dir); ok && rest != "" && rest[0] == '/' {
			return true
		}
	}
	return false
}

// fromCacheMeta returns a metadata object from a local cache repository,
// nil when none has it. The caller verifies it.
func (p *puller) fromCacheMeta(ctx context.Context, name oid.ObjectName) []byte {
	for _, c := range p.opts.LocalCaches {
		if b, err := c.ReadMeta(ctx, name.Type, name.Checksum); err == nil {
			p.prog.local.Add(1)
			return b
		}
	}
	return nil
}

// fromCacheContent stores a content object from a local cache repository,
// verified unless the pull is trusted; false when no cache has it.
func (p *puller) fromCacheContent(ctx context.Context, name oid.ObjectName) (bool, error) {
	for _, c := range p.opts.LocalCaches {
		if ok, _ := c.HasObject(ctx, name); !ok {
			continue
		}
		rc, err := c.OpenContent(ctx, name.Checksum)
		if err != nil {
			continue
		}
		write := p.tx.WriteContentAs
		if p.opts.Trusted {
			write = p.tx.WriteContentTrusted
		}
		err = write(ctx, name.Checksum, rc.Header, rc, rc.Size)
		rc.Close()
		if err != nil {
			return false, err
		}
		p.prog.local.Add(1)
		return true, nil
	}
	return false, nil
}
