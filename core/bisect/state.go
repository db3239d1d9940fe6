package bisect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/groveos/grove/core/oid"
)

// Errors returned by this package.
var (
	// ErrNotStarted: a mark, log or run with no bisect in progress.
	ErrNotStarted = errors.New(`bisect: no bisect in progress (start one with "grove bisect start")`)
	// ErrBadState: the state file is not one this package wrote.
	ErrBadState = errors.New("bisect: malformed state file")
	// ErrNotAncestor: a good commit is not an ancestor of the bad one.
	ErrNotAncestor = errors.New("bisect: good commit is not an ancestor of the bad commit")
	// ErrTerms: a term is unusable or a mark names neither term.
	ErrTerms = errors.New("bisect: invalid terms")
	// ErrMark: a mark contradicts the marks already made.
	ErrMark = errors.New("bisect: conflicting marks")
	// ErrNoCandidate: good/bad without a revision and nothing under test.
	ErrNoCandidate = errors.New("bisect: no commit under test to mark: name a revision")
	// ErrMissing: the bad commit's history is missing a commit.
	ErrMissing = errors.New("bisect: commit not in the repository")
	// ErrAbort: bisect run's command exited with a code outside the
	// contract (128 or above, or killed by a signal).
	ErrAbort = errors.New("bisect: run aborted")
	// ErrCommand: bisect run's command cannot be run (126 or 127 on the
	// good commit as on the first candidate).
	ErrCommand = errors.New("bisect: command cannot be run")
)

// Terms name the two states a commit can be in: Old for commits before
// the change (git's "good"), New for commits after it ("bad").
type Terms struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// DefaultTerms are git's good and bad.
var DefaultTerms = Terms{Old: "good", New: "bad"}

// reservedTerms are bisect's subcommands, which a term would shadow.
var reservedTerms = []string{"help", "start", "skip", "next", "reset", "visualize", "view", "replay", "log", "run", "terms"}

// Validate checks terms as git's check_term_format does: not a bisect
// subcommand, old not "bad"/"new", new not "good"/"old", the two distinct,
// and each a plain word (letters, digits, '.', '_', '-').
func (t Terms) Validate() error {
	for _, s := range []string{t.Old, t.New} {
		if s == "" {
			return fmt.Errorf("%w: a term is empty", ErrTerms)
		}
		for i, c := range s {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
			if !ok {
				return fmt.Errorf("%w: '%s' is not a valid term", ErrTerms, s)
			}
		}
		if slices.Contains(reservedTerms, s) {
			return fmt.Errorf("%w: can't use the builtin command '%s' as a term", ErrTerms, s)
		}
	}
	if t.Old == t.New {
		return fmt.Errorf("%w: please use two different terms", ErrTerms)
	}
	if t.Old == "bad" || t.Old == "new" {
		return fmt.Errorf("%w: can't change the meaning of the term '%s'", ErrTerms, t.Old)
	}
	if t.New == "good" || t.New == "old" {
		return fmt.Errorf("%w: can't change the meaning of the term '%s'", ErrTerms, t.New)
	}
	return nil
}

// Verdict is what a test says of a commit.
type Verdict int

const (
	// Old: the commit is in the old state ("good").
	Old Verdict = iota
	// New: the commit is in the new state ("bad").
	New
	// Skip: the commit cannot be tested.
	Skip
)

// Word names v in terms t ("good", "bad", "skip").
func (v Verdict) Word(t Terms) string {
	switch v {
	case Old:
		return t.Old
	case New:
		return t.New
	}
	return "skip"
}

// Verdict reads a mark command: a term, git's fixed synonyms old/new,
// or skip.
func (t Terms) Verdict(word string) (Verdict, bool) {
	switch word {
	case t.Old, "old":
		return Old, true
	case t.New, "new":
		return New, true
	case "skip":
		return Skip, true
	}
	return 0, false
}

// State is one bisect in progress.
type State struct {
	Terms Terms
	// Bad is the one commit marked new; zero until one is.
	Bad oid.Checksum
	// Good are the commits marked old, in marking order.
	Good []oid.Checksum
	// Skip are the commits marked untestable, in marking order.
	Skip []oid.Checksum
	// Current is the commit under test (git's HEAD during a bisect):
	// what good/bad/skip without a revision mark. Once the bisect is
	// over it is the first bad commit.
	Current oid.Checksum
	// Log is the bisect log, one line each, in git's format with
	// checksums for revisions and "grove bisect" for "git bisect".
	Log []string
	// Remote, when set, is the remote that commits the repository lacks
	// are fetched from (history as commit objects, trees of the commits
	// tested).
	Remote string
	// Admin is the deployment bookkeeping of a sysroot bisect; nil for
	// a bisect over a repository's history.
	Admin *Admin
}

// Admin is what `grove admin bisect` keeps beside the marks so that the
// end can put the sysroot back as it found it.
type Admin struct {
	// Stateroot is the stateroot (osname) whose deployments are bisected.
	Stateroot string `json:"stateroot"`
	// Deploy stages each candidate as the next boot deployment.
	Deploy bool `json:"deploy,omitempty"`
	// Default is the default deployment when the bisect started, which
	// the end makes the default again.
	Default DeploymentID `json:"default"`
	// Pinned lists deployments the bisect pinned (to unpin at the end).
	Pinned []DeploymentID `json:"pinned,omitempty"`
	// Staged lists deployments the bisect created (to undeploy at the end).
	Staged []DeploymentID `json:"staged,omitempty"`
}

// DeploymentID names a deployment as ostree does: commit and serial.
type DeploymentID struct {
	Commit oid.Checksum
	Serial int
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	c := *s
	c.Good = slices.Clone(s.Good)
	c.Skip = slices.Clone(s.Skip)
	c.Log = slices.Clone(s.Log)
	if s.Admin != nil {
		a := *s.Admin
		a.Pinned = slices.Clone(s.Admin.Pinned)
		a.Staged = slices.Clone(s.Admin.Staged)
		c.Admin = &a
	}
	return &c
}

// formatVersion is the version of the state file this package writes.
const formatVersion = 1

// wireState is the JSON form of State.
type wireState struct {
	Version int      `json:"version"`
	Terms   Terms    `json:"terms"`
	Bad     string   `json:"bad,omitempty"`
	Good    []string `json:"good"`
	Skip    []string `json:"skip"`
	Current string   `json:"current,omitempty"`
	Log     []string `json:"log"`
	Remote  string   `json:"remote,omitempty"`
	Admin   *Admin   `json:"admin,omitempty"`
}

type wireDeployment struct {
	Commit string `json:"commit"`
	Serial int    `json:"serial"`
}

// MarshalJSON writes d as {"commit": hex, "serial": n}.
func (d DeploymentID) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireDeployment{Commit: d.Commit.String(), Serial: d.Serial})
}

// UnmarshalJSON reads what MarshalJSON writes, strictly.
func (d *DeploymentID) UnmarshalJSON(b []byte) error {
	var w wireDeployment
	if err := strictDecode(b, &w); err != nil {
		return err
	}
	sum, err := oid.Parse(w.Commit)
	if err != nil {
		return fmt.Errorf("deployment commit %q: %w", w.Commit, err)
	}
	if w.Serial < 0 {
		return fmt.Errorf("deployment serial %d is negative", w.Serial)
	}
	*d = DeploymentID{Commit: sum, Serial: w.Serial}
	return nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the state object")
	}
	return nil
}

// Marshal renders s as the state file's bytes.
func (s *State) Marshal() ([]byte, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	w := wireState{Version: formatVersion, Terms: s.Terms, Good: hexes(s.Good), Skip: hexes(s.Skip), Log: s.Log, Remote: s.Remote, Admin: s.Admin}
	if w.Log == nil {
		w.Log = []string{}
	}
	if !s.Bad.IsZero() {
		w.Bad = s.Bad.String()
	}
	if !s.Current.IsZero() {
		w.Current = s.Current.String()
	}
	b, err := json.MarshalIndent(&w, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func hexes(sums []oid.Checksum) []string {
	out := make([]string, len(sums))
	for i, s := range sums {
		out[i] = s.String()
	}
	return out
}

// Parse reads a state file. Anything Marshal would not have written
// (unknown fields, another version, bad checksums or terms, a commit both
// good and bad, multi-line log entries) is ErrBadState naming what.
func Parse(data []byte) (*State, error) {
	var w wireState
	if err := strictDecode(data, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if w.Version != formatVersion {
		return nil, fmt.Errorf("%w: version %d (this grove reads version %d)", ErrBadState, w.Version, formatVersion)
	}
	s := &State{Terms: w.Terms, Log: w.Log, Remote: w.Remote, Admin: w.Admin}
	var err error
	if s.Bad, err = parseOptional("bad", w.Bad); err != nil {
		return nil, err
	}
	if s.Current, err = parseOptional("current", w.Current); err != nil {
		return nil, err
	}
	if s.Good, err = parseList("good", w.Good); err != nil {
		return nil, err
	}
	if s.Skip, err = parseList("skip", w.Skip); err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func parseOptional(field, v string) (oid.Checksum, error) {
	if v == "" {
		return oid.Checksum{}, nil
	}
	sum, err := oid.Parse(v)
	if err != nil {
		return sum, fmt.Errorf("%w: %s: %q is not a commit checksum", ErrBadState, field, v)
	}
	return sum, nil
}

func parseList(field string, vs []string) ([]oid.Checksum, error) {
	out := make([]oid.Checksum, 0, len(vs))
	for _, v := range vs {
		sum, err := oid.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %q is not a commit checksum", ErrBadState, field, v)
		}
		if slices.Contains(out, sum) {
			return nil, fmt.Errorf("%w: %s: %s listed twice", ErrBadState, field, v)
		}
		out = append(out, sum)
	}
	return out, nil
}

// validate checks what Parse and Marshal both insist on.
func (s *State) validate() error {
	if err := s.Terms.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	if !s.Bad.IsZero() && slices.Contains(s.Good, s.Bad) {
		return fmt.Errorf("%w: %s is marked both %s and %s", ErrBadState, s.Bad, s.Terms.Old, s.Terms.New)
	}
	if s.Remote != "" {
		if err := oid.ValidateRemote(s.Remote); err != nil {
			return fmt.Errorf("%w: remote %q: %v", ErrBadState, s.Remote, err)
		}
	}
	for i, l := range s.Log {
		if strings.ContainsAny(l, "\n\r") {
			return fmt.Errorf("%w: log entry %d spans lines", ErrBadState, i+1)
		}
	}
	if a := s.Admin; a != nil {
		if a.Stateroot == "" {
			return fmt.Errorf("%w: admin: no stateroot", ErrBadState)
		}
		if a.Default.Commit.IsZero() {
			return fmt.Errorf("%w: admin: no default deployment", ErrBadState)
		}
	}
	return nil
}
