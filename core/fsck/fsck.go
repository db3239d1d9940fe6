package fsck

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/traverse"
)

// ErrCorruption is what a failed check amounts to (ostree's final message).
var ErrCorruption = errors.New("fsck: Repository corruption encountered")

// CorruptError says an object does not hash to its name or does not decode.
type CorruptError struct {
	Name oid.ObjectName
	// Actual is the checksum the bytes hash to; zero when the object could
	// not be read far enough to hash it (then Err says why).
	Actual oid.Checksum
	// Err is set for undecodable objects.
	Err error
	// Commits reference the object (empty for a ref's commit).
	Commits []oid.Checksum
}

func (e *CorruptError) Error() string {
	var b strings.Builder
	if len(e.Commits) > 0 {
		fmt.Fprintf(&b, "In commits %s: ", joinSums(e.Commits))
	}
	if e.Name.Type == oid.File {
		fmt.Fprintf(&b, "fsck content object %s: ", e.Name.Checksum)
	} else {
		fmt.Fprintf(&b, "fsck %s: ", e.Name)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		fmt.Fprintf(&b, "Corrupted %s object; checksum expected='%s' actual='%s'", e.Name.Type, e.Name.Checksum, e.Actual)
	}
	return b.String()
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Expected is the checksum the object is named by.
func (e *CorruptError) Expected() oid.Checksum { return e.Name.Checksum }

// MissingError says a referenced object is not in the repository.
type MissingError struct {
	Name oid.ObjectName
	// Commits reference the object; Ref is set when a ref points at a
	// missing commit.
	Commits []oid.Checksum
	Ref     string
}

func (e *MissingError) Error() string {
	switch {
	case e.Ref != "":
		return fmt.Sprintf("Loading commit for ref %s: No such metadata object %s", e.Ref, e.Name)
	case len(e.Commits) > 0:
		return fmt.Sprintf("Object missing in commits %s: %s", joinSums(e.Commits), e.Name)
	}
	return fmt.Sprintf("Object missing: %s", e.Name)
}

func joinSums(cs []oid.Checksum) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.String()
	}
	return strings.Join(s, ", ")
}

// Phases of Run, in order, as progress.Event.Phase.
const (
	PhaseRefs           = "validating refs"
	PhaseCollectionRefs = "validating refs in collections"
	PhaseCommits        = "enumerating commits"
	PhaseObjects        = "verifying commits" // Total: the commits to verify
	PhaseObject         = "verifying objects" // one event per object: Done of Total
)

// Options tune Run.
type Options struct {
	// All keeps going after a corrupt object (ostree fsck --all); without
	// it and without Delete, Run stops at the first one.
	All bool
	// Delete removes corrupt objects (and marks their commits partial).
	Delete bool
	// Progress, when set, is called from one goroutine at a time.
	Progress progress.Func
	// Workers bounds parallel verification (default GOMAXPROCS).
	Workers int

	// noFastPaths checks every object through Object (tests compare).
	noFastPaths bool
}

// Result is what Run found.
type Result struct {
	// Commits is the number of complete commits whose objects were checked.
	Commits int
	// Objects is the number of reachable objects checked.
	Objects int
	// Partial counts commits marked partial (not verified); FsckPartial
	// those marked by an earlier fsck.
	Partial, FsckPartial int
	// Problems, in the order found: *CorruptError and *MissingError.
	Problems []error
	// Deleted corrupt objects (Options.Delete).
	Deleted []oid.ObjectName
	// MarkedPartial lists commits newly marked partial by this run.
	MarkedPartial []oid.Checksum
	// Stopped is set when Run gave up early (first corruption without
	// All, or a ref whose commit is missing), like ostree does.
	Stopped bool
}

// Err summarises the result: nil when the repository is sound.
func (res *Result) Err() error {
	if len(res.Problems) > 0 {
		if res.Stopped {
			return res.Problems[len(res.Problems)-1]
		}
		return ErrCorruption
	}
	if res.FsckPartial > 0 {
		return fmt.Errorf("fsck: %d partial commits from fsck-detected corruption", res.Partial)
	}
	return nil
}

// Run checks the repository.
func Run(ctx context.Context, r *repo.Repo, opts Options) (*Result, error) {
	unlock, err := r.LockShared(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	report := opts.Progress.Report
	res := &Result{}
	stopOnCorrupt := !opts.All && !opts.Delete

	report(progress.Event{Phase: PhaseRefs})
	refs, err := r.ListRefs(ctx)
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		name := oid.ObjectName{Checksum: ref.Checksum, Type: oid.Commit}
		perr := Object(ctx, r, name)
		var me *MissingError
		if errors.As(perr, &me) {
			me.Ref = ref.Name
			res.Problems = append(res.Problems, me)
			res.Stopped = true
			return res, nil
		}
		if perr != nil {
			res.Problems = append(res.Problems, perr)
			if stopOnCorrupt {
				res.Stopped = true
				return res, nil
			}
			if opts.Delete {
				if err := deleteObject(ctx, r, name, res); err != nil {
					return nil, err
				}
			}
		}
	}
	report(progress.Event{Phase: PhaseCollectionRefs})

	report(progress.Event{Phase: PhaseCommits})
	all, err := r.ListObjectsOfType(ctx, oid.Commit)
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return string(all[i][:]) < string(all[j][:]) })
	var complete []oid.Checksum
	var roots [][2]oid.Checksum
	for _, c := range all {
		commit, err := r.LoadCommit(ctx, c)
		if err != nil {
			if errors.Is(err, repo.ErrNotFound) {
				continue // deleted above
			}
			res.Problems = append(res.Problems, &CorruptError{Name: oid.ObjectName{Checksum: c, Type: oid.Commit}, Err: err})
			if stopOnCorrupt {
				res.Stopped = true
				return res, nil
			}
			continue
		}
		if r.IsPartial(c) {
			res.Partial++
			if r.IsFsckPartial(c) {
				res.FsckPartial++
			}
			continue
		}
		complete = append(complete, c)
		roots = append(roots, [2]oid.Checksum{commit.RootTree, commit.RootMeta})
	}
	res.Commits = len(complete)
	report(progress.Event{Phase: PhaseObjects, Total: int64(len(complete))})

	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n, found, err := walk(ctx, r, complete, roots, workers, stopOnCorrupt, !opts.noFastPaths, report)
	if err != nil {
		return nil, err
	}
	res.Objects = n
	if err := collect(ctx, r, complete, found, opts, stopOnCorrupt, res); err != nil {
		return nil, err
	}
	return res, nil
}

// collect records problems (in name order) like ostree reports them: each
// names the commits that reach the object; a corrupt object stops the run
// unless --all or --delete; missing and deleted objects make their
// commits partial.
func collect(ctx context.Context, r *repo.Repo, complete []oid.Checksum, found []problem,
	opts Options, stopOnCorrupt bool, res *Result) error {
	var set *traverse.Set
	partial := map[oid.Checksum]bool{}
	for _, p := range found {
		perr, name := p.Err, p.Name
		var commits []oid.Checksum
		if name.Type != oid.Commit {
			// Referrers are only needed for problems: walk again, this
			// time recording them.
			if set == nil {
				var err error
				set, err = traverse.ReachableSet(ctx, r, complete, 0, traverse.Options{Parents: true, Tolerant: true})
				if err != nil {
					return err
				}
			}
			commits = set.Commits(name)
		}
		var ce *CorruptError
		var me *MissingError
		switch {
		case errors.As(perr, &me):
			me.Commits = commits
		case errors.As(perr, &ce):
			ce.Commits = commits
			if stopOnCorrupt {
				res.Problems = append(res.Problems, ce)
				res.Stopped = true
				return nil
			}
			if !opts.Delete {
				res.Problems = append(res.Problems, ce)
				continue
			}
			if err := deleteObject(ctx, r, name, res); err != nil {
				return err
			}
		}
		res.Problems = append(res.Problems, perr)
		// A missing (or deleted) object makes its commits partial.
		if name.Type == oid.Commit {
			continue
		}
		for _, c := range commits {
			if partial[c] || r.IsPartial(c) {
				continue
			}
			partial[c] = true
			if err := r.MarkFsckPartial(c); err != nil {
				return fmt.Errorf("fsck: marking %s partial: %w", c, err)
			}
			res.MarkedPartial = append(res.MarkedPartial, c)
		}
	}
	return nil
}

func deleteObject(ctx context.Context, r *repo.Repo, name oid.ObjectName, res *Result) error {
	if name.Type == oid.Commit {
		// ostree_repo_delete_object drops the detached metadata too.
		if err := r.DeleteObject(ctx, oid.ObjectName{Checksum: name.Checksum, Type: oid.CommitMeta}); err != nil {
			return err
		}
	}
	if err := r.DeleteObject(ctx, name); err != nil {
		return err
	}
	res.Deleted = append(res.Deleted, name)
	return nil
}

// Object checks one object: nil, a *MissingError or a *CorruptError.
// Other errors (I/O) are returned as they are.
func Object(ctx context.Context, r *repo.Repo, name oid.ObjectName) error {
	if name.Type == oid.File {
		return checkContent(ctx, r, name)
	}
	b, err := r.ReadMeta(ctx, name.Type, name.Checksum)
	if errors.Is(err, repo.ErrNotFound) {
		return &MissingError{Name: name}
	}
	if err != nil {
		return err
	}
	switch name.Type {
	case oid.CommitMeta, oid.TombstoneCommit:
		// Named after their commit, not by their bytes.
		if _, err := object.UnmarshalMeta(b); err != nil {
			return &CorruptError{Name: name, Err: err}
		}
		return nil
	}
	if sum := oid.Checksum(sha256.Sum256(b)); sum != name.Checksum {
		return &CorruptError{Name: name, Actual: sum}
	}
	switch name.Type {
	case oid.Commit:
		_, err = object.UnmarshalCommit(b)
	case oid.DirTree:
		_, err = object.UnmarshalDirTree(b)
	case oid.DirMeta:
		_, err = object.UnmarshalDirMeta(b)
	}
	if err != nil {
		return &CorruptError{Name: name, Err: err}
	}
	return nil
}

func checkContent(ctx context.Context, r *repo.Repo, name oid.ObjectName) error {
	c, err := r.OpenContent(ctx, name.Checksum)
	if errors.Is(err, repo.ErrNotFound) {
		return &MissingError{Name: name}
	}
	if err != nil {
		return &CorruptError{Name: name, Err: err}
	}
	defer c.Close()
	if err := c.Header.Validate(); err != nil {
		return &CorruptError{Name: name, Err: err}
	}
	// object.ContentChecksum, with a pooled buffer: io.Copy would allocate
	// 32 KiB per object and read in small chunks.
	h := sha256.New()
	h.Write(c.Header.StreamPrefix())
	if !c.Header.IsSymlink() {
		bp := bufPool.Get().(*[]byte)
		_, err = io.CopyBuffer(struct{ io.Writer }{h}, struct{ io.Reader }{ctxReader{ctx, c}}, *bp)
		bufPool.Put(bp)
		if err != nil {
			return &CorruptError{Name: name, Err: err}
		}
	}
	var sum oid.Checksum
	h.Sum(sum[:0])
	if sum != name.Checksum {
		return &CorruptError{Name: name, Actual: sum}
	}
	return nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// ctxReader lets a cancelled run stop in the middle of a large file.
type ctxReader struct {
	ctx context.Context
	r   interface{ Read([]byte) (int, error) }
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
