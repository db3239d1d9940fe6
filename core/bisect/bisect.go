package bisect

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// Loader reads commits; *repo.Repo is one, and a sysroot bisect wraps it
// with one that fetches missing commits.
type Loader interface {
	LoadCommit(ctx context.Context, sum oid.Checksum) (*object.Commit, error)
}

// Range is the commits a bisect chooses from.
type Range struct {
	// Commits run oldest first: the parent of Commits[0] is Good and the
	// last is the bad commit.
	Commits []oid.Checksum
	// Good is the newest good commit, the range's lower bound.
	Good oid.Checksum

	objs  map[oid.Checksum]*object.Commit
	index map[oid.Checksum]int
}

// Commit is the commit object of a range member or of Good (nil for
// others).
func (r *Range) Commit(sum oid.Checksum) *object.Commit { return r.objs[sum] }

// Index is sum's position in Commits, -1 when it is not a candidate.
func (r *Range) Index(sum oid.Checksum) int {
	if i, ok := r.index[sum]; ok {
		return i
	}
	return -1
}

// NotAncestorError: Good is not an ancestor of Bad.
type NotAncestorError struct {
	Good, Bad oid.Checksum
	Terms     Terms
}

func (e *NotAncestorError) Error() string {
	return fmt.Sprintf("bisect: %s commit %s is not an ancestor of the %s commit %s (maybe you mistook %s and %s commits?)",
		e.Terms.Old, e.Good, e.Terms.New, e.Bad, e.Terms.Old, e.Terms.New)
}

// Is makes errors.Is(err, ErrNotAncestor) true.
func (e *NotAncestorError) Is(target error) bool { return target == ErrNotAncestor }

// load reads one commit, naming it (and whose parent it is) on failure.
func load(ctx context.Context, l Loader, sum, child oid.Checksum) (*object.Commit, error) {
	c, err := l.LoadCommit(ctx, sum)
	if err == nil {
		return c, nil
	}
	if errors.Is(err, repo.ErrNotFound) {
		if child.IsZero() {
			return nil, fmt.Errorf("%w: %s: %v", ErrMissing, sum, err)
		}
		return nil, fmt.Errorf("%w: %s (parent of %s): %v", ErrMissing, sum, child, err)
	}
	return nil, fmt.Errorf("bisect: commit %s: %w", sum, err)
}

// Walk follows the parent chain from bad back to the newest of goods and
// returns the candidates. Every good must be an ancestor of bad (else
// NotAncestorError); goods older than the newest one are looked for as far
// as the history goes, and a history cut short past the range (a shallow
// pull) is not an error.
func Walk(ctx context.Context, l Loader, terms Terms, bad oid.Checksum, goods []oid.Checksum) (*Range, error) {
	want := make(map[oid.Checksum]bool, len(goods))
	for _, g := range goods {
		if g == bad {
			return nil, fmt.Errorf("%w: %s is marked both %s and %s", ErrMark, g, terms.Old, terms.New)
		}
		want[g] = true
	}
	r := &Range{objs: map[oid.Checksum]*object.Commit{}, index: map[oid.Checksum]int{}}
	found, shallow := false, false
	var child oid.Checksum
	for cur := bad; ; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if want[cur] {
			delete(want, cur)
			if !found {
				found = true
				r.Good = cur
			}
		}
		if found && len(want) == 0 && cur != r.Good {
			break
		}
		c, err := load(ctx, l, cur, child)
		if err != nil {
			if found && errors.Is(err, ErrMissing) {
				shallow = true // older goods lie past a shallow history
				break
			}
			return nil, err
		}
		if !found {
			r.Commits = append(r.Commits, cur)
		}
		if !found || cur == r.Good {
			r.objs[cur] = c
		}
		if found && len(want) == 0 || !c.HasParent() {
			break
		}
		child, cur = cur, c.Parent
	}
	if len(want) > 0 && !shallow {
		for _, g := range goods {
			if want[g] {
				return nil, &NotAncestorError{Good: g, Bad: bad, Terms: terms}
			}
		}
	}
	slices.Reverse(r.Commits)
	for i, c := range r.Commits {
		r.index[c] = i
	}
	return r, nil
}

// Step is where a bisect stands after its marks.
type Step struct {
	Terms Terms
	// NeedOld and NeedNew say which marks are still missing before
	// there is anything to test.
	NeedOld, NeedNew bool
	// Range is the candidates (nil while marks are missing).
	Range *Range
	// Candidate is the commit to test next; zero when done or waiting.
	Candidate oid.Checksum
	// Left and Steps are git's "N revisions left to test after this
	// (roughly K steps)"; Total is the number of candidates, the bad
	// commit included.
	Left, Steps, Total int
	// FirstBad is the first commit in the new state, once found.
	FirstBad oid.Checksum
	// Possible lists, oldest first, the commits that may be the first
	// new one when only skipped commits are left between the last good
	// and the bad one (the bad one last).
	Possible []oid.Checksum
}

// Waiting reports whether marks are still missing.
func (s *Step) Waiting() bool { return s.NeedOld || s.NeedNew }

// Done reports whether the bisect has ended, found or not.
func (s *Step) Done() bool { return !s.FirstBad.IsZero() || len(s.Possible) > 0 }

// LastGood is the newest commit known to be in the old state.
func (s *Step) LastGood() oid.Checksum {
	if s.Range == nil {
		return oid.Checksum{}
	}
	return s.Range.Good
}

// Status is git's status line for a bisect waiting for marks.
func (s *Step) Status(goods int) string {
	switch {
	case s.NeedOld && s.NeedNew:
		return fmt.Sprintf("waiting for both %s and %s commits", s.Terms.Old, s.Terms.New)
	case s.NeedOld:
		return fmt.Sprintf("waiting for %s commit(s), %s commit known", s.Terms.Old, s.Terms.New)
	case s.NeedNew:
		if goods == 1 {
			return fmt.Sprintf("waiting for %s commit, 1 %s commit known", s.Terms.New, s.Terms.Old)
		}
		return fmt.Sprintf("waiting for %s commit, %d %s commits known", s.Terms.New, goods, s.Terms.Old)
	}
	return ""
}

// EstimateSteps is git's estimate_bisect_steps: about how many more
// tests a range of all candidates needs after the next one.
func EstimateSteps(all int) int {
	if all < 3 {
		return 0
	}
	n := bits.Len(uint(all)) - 1
	e := 1 << n
	x := all - e
	if e < 3*x {
		return n
	}
	return n - 1
}

// pick is git's choice on a linear history: walking from the oldest
// candidate with weight w (commits it reaches in the range, itself
// included) from 2 up, the first with |2w - n| <= 1; for n = 2 the only
// untested one. The bad commit (weight n) is never picked while others
// are untested.
func pick(n int) int {
	for w := 2; w < n; w++ {
		if d := 2*w - n; d >= -1 && d <= 1 {
			return w - 1
		}
	}
	return 0
}

// choose returns the index to test among n candidates with the skipped
// ones marked, or -1 when every untested candidate is skipped. A skipped
// midpoint gives way to the nearest untested candidate; of two equally
// near, the one that splits the range better, else the older.
func choose(n int, skipped func(int) bool) int {
	t := pick(n)
	if !skipped(t) {
		return t
	}
	score := func(i int) int { return min(i+1, n-i-1) }
	for d := 1; d < n; d++ {
		lo, hi := t-d, t+d
		okLo := lo >= 0 && !skipped(lo)
		okHi := hi <= n-2 && !skipped(hi)
		switch {
		case okLo && okHi:
			if score(hi) > score(lo) {
				return hi
			}
			return lo
		case okLo:
			return lo
		case okHi:
			return hi
		}
	}
	return -1
}

// Next works out the step the marks in s lead to: what to test next, or
// the first bad commit, or the commits it may be. It reads the history
// through l and changes nothing.
func (s *State) Next(ctx context.Context, l Loader) (*Step, error) {
	st := &Step{Terms: s.Terms, NeedNew: s.Bad.IsZero(), NeedOld: len(s.Good) == 0}
	if st.Waiting() {
		return st, nil
	}
	r, err := Walk(ctx, l, s.Terms, s.Bad, s.Good)
	if err != nil {
		return nil, err
	}
	st.Range = r
	n := len(r.Commits)
	st.Total = n
	if n == 1 {
		st.FirstBad = s.Bad
		return st, nil
	}
	skip := make(map[oid.Checksum]bool, len(s.Skip))
	for _, c := range s.Skip {
		skip[c] = true
	}
	i := choose(n, func(i int) bool { return skip[r.Commits[i]] })
	if i < 0 {
		st.Possible = slices.Clone(r.Commits)
		return st, nil
	}
	st.Candidate = r.Commits[i]
	st.Left = n - (i + 1) - 1
	st.Steps = EstimateSteps(n)
	return st, nil
}

// StartOptions describe a bisect to start.
type StartOptions struct {
	// Terms (zero for good/bad).
	Terms Terms
	// Bad and Good are the first marks (zero and nil for none yet).
	Bad  oid.Checksum
	Good []oid.Checksum
	// Remote is where commits the repository lacks are fetched from (the
	// Loader given does the fetching; this is recorded in the state and
	// the log).
	Remote string
	// Admin is a sysroot bisect's bookkeeping.
	Admin *Admin
}

// Start begins a bisect with terms (zero for good/bad), an optional bad
// commit and any good ones, as `git bisect start BAD GOOD…` does.
func Start(ctx context.Context, l Loader, terms Terms, bad oid.Checksum, goods []oid.Checksum) (*State, *Step, error) {
	return StartWith(ctx, l, StartOptions{Terms: terms, Bad: bad, Good: goods})
}

// StartWith is Start with every option.
func StartWith(ctx context.Context, l Loader, o StartOptions) (*State, *Step, error) {
	terms, bad, goods := o.Terms, o.Bad, o.Good
	if terms == (Terms{}) {
		terms = DefaultTerms
	}
	if err := terms.Validate(); err != nil {
		return nil, nil, err
	}
	if o.Remote != "" {
		if err := oid.ValidateRemote(o.Remote); err != nil {
			return nil, nil, fmt.Errorf("bisect: remote %q: %w", o.Remote, err)
		}
	}
	s := &State{Terms: terms, Remote: o.Remote, Admin: o.Admin}
	args := []string{}
	if terms != DefaultTerms {
		args = append(args, "--term-old="+terms.Old, "--term-new="+terms.New)
	}
	if o.Remote != "" {
		args = append(args, "--remote="+o.Remote)
	}
	if !bad.IsZero() {
		c, err := load(ctx, l, bad, oid.Checksum{})
		if err != nil {
			return nil, nil, err
		}
		s.Bad = bad
		s.Log = append(s.Log, markComment(terms.New, bad, c))
		args = append(args, bad.String())
	}
	for _, g := range goods {
		if slices.Contains(s.Good, g) {
			continue
		}
		c, err := load(ctx, l, g, oid.Checksum{})
		if err != nil {
			return nil, nil, err
		}
		s.Good = append(s.Good, g)
		s.Log = append(s.Log, markComment(terms.Old, g, c))
		args = append(args, g.String())
	}
	s.Log = append(s.Log, command("start", args...))
	step, err := s.advance(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	return s, step, nil
}

// Mark records a verdict on commits (the commit under test when none are
// given) and works out the next step. s is left as it was: the result is
// a new state, and a mark that contradicts the others (a good commit that
// is not an ancestor of the bad one, a commit both good and bad) is an
// error.
func (s *State) Mark(ctx context.Context, l Loader, v Verdict, commits ...oid.Checksum) (*State, *Step, error) {
	if len(commits) == 0 {
		if s.Current.IsZero() {
			return nil, nil, ErrNoCandidate
		}
		commits = []oid.Checksum{s.Current}
	}
	word := v.Word(s.Terms)
	if v == New && len(commits) > 1 {
		return nil, nil, fmt.Errorf("%w: 'bisect %s' takes only one commit", ErrMark, word)
	}
	n := s.Clone()
	for _, c := range commits {
		obj, err := load(ctx, l, c, oid.Checksum{})
		if err != nil {
			return nil, nil, err
		}
		switch v {
		case New:
			if slices.Contains(n.Good, c) {
				return nil, nil, fmt.Errorf("%w: %s is already marked %s", ErrMark, c, n.Terms.Old)
			}
			n.Bad = c
		case Old:
			if c == n.Bad {
				return nil, nil, fmt.Errorf("%w: %s is already marked %s", ErrMark, c, n.Terms.New)
			}
			if !slices.Contains(n.Good, c) {
				n.Good = append(n.Good, c)
			}
		case Skip:
			if !slices.Contains(n.Skip, c) {
				n.Skip = append(n.Skip, c)
			}
		}
		n.Log = append(n.Log, markComment(word, c, obj), command(word, c.String()))
	}
	step, err := n.advance(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	return n, step, nil
}

// advance computes the next step, moves Current and logs the outcome.
func (s *State) advance(ctx context.Context, l Loader) (*Step, error) {
	step, err := s.Next(ctx, l)
	if err != nil {
		return nil, err
	}
	switch {
	case step.Waiting():
		s.Log = append(s.Log, "# status: "+step.Status(len(s.Good)))
	case !step.FirstBad.IsZero():
		s.Current = step.FirstBad
		s.Log = append(s.Log, fmt.Sprintf("# first %s commit: [%s] %s", s.Terms.New, step.FirstBad, subject(step.Range.Commit(step.FirstBad))))
	case len(step.Possible) > 0:
		s.Current = oid.Checksum{}
		s.Log = append(s.Log, "# only skipped commits left to test")
		for _, c := range step.Possible {
			s.Log = append(s.Log, fmt.Sprintf("# possible first %s commit: [%s] %s", s.Terms.New, c, subject(step.Range.Commit(c))))
		}
	default:
		s.Current = step.Candidate
	}
	return step, nil
}

func subject(c *object.Commit) string {
	if c == nil {
		return ""
	}
	return c.Subject
}
