package bisect

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
)

// The log is git's `bisect log`: a comment naming each mark's commit and
// subject, the command that made it, status comments, and the outcome:
//
//	grove bisect start
//	# status: waiting for both good and bad commits
//	# bad: [<checksum>] <subject>
//	grove bisect bad <checksum>
//	# good: [<checksum>] <subject>
//	grove bisect good <checksum>
//	# first bad commit: [<checksum>] <subject>
//
// Revisions are always full checksums, so a replay does not depend on
// where refs point by then.

// logCommand starts every command line of the log.
const logCommand = "grove bisect"

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

func markComment(word string, sum oid.Checksum, c *object.Commit) string {
	return fmt.Sprintf("# %s: [%s] %s", word, sum, oneLine(subject(c)))
}

// command renders a log command line, quoting arguments as git's
// sq_quote does where they need it.
func command(cmd string, args ...string) string {
	var b strings.Builder
	b.WriteString(logCommand + " " + cmd)
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(quote(a))
	}
	return b.String()
}

func quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_=.,/:@^~+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// splitWords splits a command line as a POSIX shell would for the quoting
// the log uses: blanks separate words, single quotes quote anything,
// double quotes and backslashes quote the next character.
func splitWords(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated quote")
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
				cur.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unterminated quote")
			}
			inWord = true
		case c == '\\':
			if i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// Resolver turns a revision written in a log (a checksum, or anything
// ResolveRev takes when the log was written by hand) into a commit.
type Resolver func(ctx context.Context, rev string) (oid.Checksum, error)

// ParseStartArgs reads `bisect start`'s arguments: --term-old/--term-good
// and --term-new/--term-bad, --remote (each as "--opt=V" or "--opt V"),
// then the bad revision and good ones. "--" may end the options.
func ParseStartArgs(args []string) (o StartOptions, revs []string, err error) {
	o.Terms = DefaultTerms
	opts := true
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !opts || !strings.HasPrefix(a, "--") {
			revs = append(revs, a)
			continue
		}
		if a == "--" {
			opts = false
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		if !hasVal {
			if i+1 >= len(args) {
				return o, nil, fmt.Errorf("bisect: start: %s needs a value", name)
			}
			i++
			val = args[i]
		}
		switch name {
		case "--term-old", "--term-good":
			o.Terms.Old = val
		case "--term-new", "--term-bad":
			o.Terms.New = val
		case "--remote":
			o.Remote = val
		default:
			return o, nil, fmt.Errorf("bisect: start: unknown option %s", name)
		}
	}
	if err := o.Terms.Validate(); err != nil {
		return o, nil, err
	}
	return o, revs, nil
}

// Replay rebuilds a bisect from a log as `git bisect replay` does: each
// "grove bisect start" begins afresh (a sysroot bisect's bookkeeping is
// not in the log: the caller carries it over), marks are applied in order, comments
// and "terms" lines are passed over, anything else is an error naming the
// line. Nothing is written: the caller saves the returned state (and
// keeps the old one when Replay fails).
func Replay(ctx context.Context, l Loader, name string, in io.Reader, resolve Resolver) (*State, *Step, error) {
	var st *State
	var step *Step
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	lineNo := 0
	fail := func(err error) (*State, *Step, error) {
		return nil, nil, fmt.Errorf("bisect: replay: %s:%d: %w", name, lineNo, err)
	}
	for sc.Scan() {
		lineNo++
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := splitWords(line)
		if err != nil {
			return fail(err)
		}
		if len(words) < 3 || words[0] != "grove" || words[1] != "bisect" {
			return fail(fmt.Errorf("not a %q command: %s", logCommand, line))
		}
		cmd, args := words[2], words[3:]
		switch cmd {
		case "start":
			so, revs, err := ParseStartArgs(args)
			if err != nil {
				return fail(err)
			}
			sums := make([]oid.Checksum, len(revs))
			for i, r := range revs {
				if sums[i], err = resolve(ctx, r); err != nil {
					return fail(err)
				}
			}
			if len(sums) > 0 {
				so.Bad, so.Good = sums[0], sums[1:]
			}
			if st, step, err = StartWith(ctx, l, so); err != nil {
				return fail(err)
			}
		case "terms":
		default:
			if st == nil {
				return fail(fmt.Errorf("%q before %q", logCommand+" "+cmd, logCommand+" start"))
			}
			v, ok := st.Terms.Verdict(cmd)
			if !ok {
				return fail(fmt.Errorf("unknown bisect command %q (the terms are %s and %s)", cmd, st.Terms.Old, st.Terms.New))
			}
			sums := make([]oid.Checksum, len(args))
			for i, r := range args {
				if sums[i], err = resolve(ctx, r); err != nil {
					return fail(err)
				}
			}
			if len(sums) == 0 {
				return fail(fmt.Errorf("%q names no commit", line))
			}
			if st, step, err = st.Mark(ctx, l, v, sums...); err != nil {
				return fail(err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("bisect: replay: %s: %w", name, err)
	}
	if st == nil {
		return nil, nil, fmt.Errorf("bisect: replay: %s: no %q line", name, logCommand+" start")
	}
	return st, step, nil
}
