package trial

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/pull"
	"github.com/groveos/grove/core/remote"
	"github.com/groveos/grove/core/repo"
)

// historyBatch is how many commits one history fetch brings: a bisect
// walks the chain commit by commit, and one pull per commit would be a
// round trip each.
const historyBatch = 64

// Fetcher brings the commits a bisect needs and the repository lacks from
// one of its remotes, as little as it can: the history as commit objects
// only (commit-metadata-only pulls, a batch of parents at a time, the
// commits marked partial as ostree marks them), and a candidate's tree
// only when it is tested. It is a bisect.Loader; Trial.Prepare uses it
// through Options.Fetcher. Signatures are checked as the remote's
// configuration asks.
type Fetcher struct {
	r      *repo.Repo
	where  remote.Where
	name   string
	report progress.Func

	mu  sync.Mutex
	src pull.Source
	rem *remote.Remote
}

// NewFetcher fetches from remote name of r (where says where r's remotes
// are kept: a sysroot's remotes.d too). The remote is looked up now; the
// connection is made on first use.
func NewFetcher(r *repo.Repo, where remote.Where, name string, report progress.Func) (*Fetcher, error) {
	rem, err := remote.Get(r, where, name)
	if err != nil {
		return nil, err
	}
	return &Fetcher{r: r, where: where, name: name, rem: rem, report: report}, nil
}

// Remote is the remote's name.
func (f *Fetcher) Remote() string { return f.name }

func (f *Fetcher) source(ctx context.Context) (pull.Source, func(context.Context, oid.Checksum, []byte, []byte) error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	verify, err := func() (remote.Verifiers, error) {
		p, err := remote.Policy(f.r, f.rem, f.where)
		if err != nil {
			return remote.Verifiers{}, err
		}
		return remote.VerifiersFor(p, nil), nil
	}()
	if err != nil {
		return nil, nil, err
	}
	if f.src == nil {
		if f.src, err = remote.Open(ctx, f.r, f.rem, remote.SourceOptions{Retries: -1, VerifySummary: verify.Summary}); err != nil {
			return nil, nil, fmt.Errorf("remote %s: %w", f.name, err)
		}
	}
	return f.src, verify.Commit, nil
}

// Close ends the connection.
func (f *Fetcher) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.src.(interface{ Close() }); ok {
		c.Close()
	}
	f.src = nil
}

func (f *Fetcher) pull(ctx context.Context, sum oid.Checksum, depth int, metaOnly bool) error {
	src, verify, err := f.source(ctx)
	if err != nil {
		return err
	}
	_, err = pull.Pull(ctx, f.r, src, pull.Options{
		Refs: []string{sum.String()}, Depth: depth, CommitMetadataOnly: metaOnly,
		Verify: verify, Progress: f.report,
	})
	if err != nil {
		return fmt.Errorf("fetching %s from %s: %w", sum, f.name, err)
	}
	return nil
}

// LoadCommit reads a commit, fetching it and a batch of its ancestors
// (commit objects only) when the repository lacks it.
func (f *Fetcher) LoadCommit(ctx context.Context, sum oid.Checksum) (*object.Commit, error) {
	c, err := f.r.LoadCommit(ctx, sum)
	if err == nil || !errors.Is(err, repo.ErrNotFound) {
		return c, err
	}
	if err := f.pull(ctx, sum, historyBatch, true); err != nil {
		if errors.Is(err, pull.ErrNotFound) {
			return nil, fmt.Errorf("%w: %v", repo.ErrNotFound, err)
		}
		return nil, err
	}
	return f.r.LoadCommit(ctx, sum)
}

// EnsureTree makes the repository hold commit's whole tree, pulling it
// when the commit is missing or partial.
func (f *Fetcher) EnsureTree(ctx context.Context, sum oid.Checksum) error {
	has, err := f.r.HasObject(ctx, oid.ObjectName{Checksum: sum, Type: oid.Commit})
	if err != nil {
		return err
	}
	if has && !f.r.IsPartial(sum) {
		return nil
	}
	return f.pull(ctx, sum, 0, false)
}
