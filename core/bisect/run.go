package bisect

import (
	"context"
	"errors"
	"fmt"

	"github.com/groveos/grove/core/oid"
)

// ExitVerdict maps a command's exit status to a verdict with git bisect
// run's contract: 0 old (good), 125 skip, 1–127 otherwise new (bad);
// anything else (128 and above, or negative for a signal) aborts.
func ExitVerdict(code int) (Verdict, bool) {
	switch {
	case code == 0:
		return Old, true
	case code == 125:
		return Skip, true
	case code > 0 && code < 128:
		return New, true
	}
	return 0, false
}

// UntestableError is what a Test returns for a candidate it cannot test
// (its tree cannot be fetched or checked out): the candidate is skipped
// and the reason reported, and the run goes on.
type UntestableError struct {
	Commit oid.Checksum
	Err    error
}

func (e *UntestableError) Error() string {
	return fmt.Sprintf("bisect: cannot test %s: %v", e.Commit, e.Err)
}

func (e *UntestableError) Unwrap() error { return e.Err }

// Test tests one commit and returns the command's exit status (negative
// when a signal ended it).
type Test func(ctx context.Context, commit oid.Checksum) (int, error)

// EventKind says what a RunEvent reports.
type EventKind int

const (
	// EventTesting: Commit is about to be tested; Step is the step that
	// chose it.
	EventTesting EventKind = iota
	// EventTested: Commit exited with Code, meaning Verdict.
	EventTested
	// EventUntestable: Commit could not be tested (Err) and is skipped.
	EventUntestable
	// EventVerifyingOld: the first result was 126 or 127, so the newest
	// good commit is tested to tell a broken command from a bad commit.
	EventVerifyingOld
	// EventDone: Step ended the bisect.
	EventDone
)

// RunEvent is one report from Run.
type RunEvent struct {
	Kind    EventKind
	Step    *Step
	Commit  oid.Checksum
	Code    int
	Verdict Verdict
	Err     error
}

// RunOptions configure Run.
type RunOptions struct {
	// Test tests a candidate (required).
	Test Test
	// Save stores the state after each mark, so that a run killed half
	// way goes on where it stopped.
	Save func(*State) error
	// Event, when set, receives the run's reports.
	Event func(RunEvent)
}

// Run is git bisect run: it tests the commit under test, marks it by the
// exit status, and goes on until the bisect ends. A status outside the
// contract ends it with ErrAbort; a command that gives 126 or 127 on the
// first candidate and again on the good commit cannot be run (ErrCommand).
func Run(ctx context.Context, l Loader, st *State, opts RunOptions) (*State, *Step, error) {
	if opts.Test == nil {
		return nil, nil, errors.New("bisect: run: no test")
	}
	event := opts.Event
	if event == nil {
		event = func(RunEvent) {}
	}
	step, err := st.Next(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	if step.Waiting() {
		return nil, nil, fmt.Errorf("bisect: run: cannot run without a %s and a %s commit (%s)", st.Terms.Old, st.Terms.New, step.Status(len(st.Good)))
	}
	first := true
	for !step.Done() {
		if err := ctx.Err(); err != nil {
			return st, step, err
		}
		cand := step.Candidate
		event(RunEvent{Kind: EventTesting, Step: step, Commit: cand})
		code, err := opts.Test(ctx, cand)
		var v Verdict
		var untestable *UntestableError
		switch {
		case errors.As(err, &untestable):
			event(RunEvent{Kind: EventUntestable, Commit: cand, Err: err})
			v = Skip
		case err != nil:
			return st, step, err
		default:
			var ok bool
			if v, ok = ExitVerdict(code); !ok {
				return st, step, fmt.Errorf("%w: exit code %d from the command on %s is < 0 or >= 128", ErrAbort, code, cand)
			}
			event(RunEvent{Kind: EventTested, Commit: cand, Code: code, Verdict: v})
			if first && (code == 126 || code == 127) {
				good := step.LastGood()
				event(RunEvent{Kind: EventVerifyingOld, Commit: good})
				rc, err := opts.Test(ctx, good)
				if err != nil {
					return st, step, fmt.Errorf("bisect: run: unable to verify the command on %s commit %s: %w", st.Terms.Old, good, err)
				}
				if rc < 0 || rc >= 128 {
					return st, step, fmt.Errorf("%w: unable to verify the command on %s commit %s: exit code %d", ErrAbort, st.Terms.Old, good, rc)
				}
				if rc == code {
					return st, step, fmt.Errorf("%w: it exits %d on the %s commit %s as on %s", ErrCommand, code, st.Terms.Old, good, cand)
				}
			}
		}
		if err == nil {
			first = false
		}
		next, nstep, err := st.Mark(ctx, l, v, cand)
		if err != nil {
			return st, step, err
		}
		if opts.Save != nil {
			if err := opts.Save(next); err != nil {
				return st, step, err
			}
		}
		st, step = next, nstep
	}
	event(RunEvent{Kind: EventDone, Step: step})
	return st, step, nil
}
