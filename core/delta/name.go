package delta

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/groveos/grove/core/oid"
)

// Errors returned by this package.
var (
	ErrName      = errors.New("delta: invalid delta name")
	ErrCorrupt   = errors.New("delta: corrupt delta")
	ErrChecksum  = errors.New("delta: checksum mismatch")
	ErrNotFound  = errors.New("delta: no such delta")
	ErrTooLarge  = errors.New("delta: size limit exceeded")
	ErrSignature = errors.New("delta: signature")
)

// Name identifies a delta by its target commit and, unless it starts
// from scratch, its source commit.
type Name struct {
	From oid.Checksum // zero for a from-scratch delta
	To   oid.Checksum
}

// Scratch reports whether the delta starts from nothing.
func (n Name) Scratch() bool { return n.From.IsZero() }

// String is ostree's name: "FROM-TO" or "TO", in hex.
func (n Name) String() string {
	if n.Scratch() {
		return n.To.String()
	}
	return n.From.String() + "-" + n.To.String()
}

// ParseName reads "FROM-TO" or "TO"; the error reads as ostree's.
func ParseName(s string) (Name, error) {
	from, to, pair := strings.Cut(s, "-")
	var n Name
	var err error
	if !pair {
		to = from
	} else if n.From, err = oid.Parse(from); err != nil {
		return n, fmt.Errorf("%w: Invalid rev %s", ErrName, from)
	}
	if n.To, err = oid.Parse(to); err != nil {
		return n, fmt.Errorf("%w: Invalid rev %s", ErrName, to)
	}
	return n, nil
}

// Dir is the delta's directory relative to the repository:
// deltas/TT/REST for scratch deltas, deltas/FF/FREST-TO64 otherwise.
func (n Name) Dir() string {
	to := n.To.ModifiedBase64()
	if n.Scratch() {
		return "deltas/" + to[:2] + "/" + to[2:]
	}
	from := n.From.ModifiedBase64()
	return "deltas/" + from[:2] + "/" + from[2:] + "-" + to
}

// SuperblockPath is Dir()/superblock.
func (n Name) SuperblockPath() string { return n.Dir() + "/superblock" }

// PartPath is Dir()/I, also the key of an inline part in the
// superblock's metadata.
func (n Name) PartPath(i int) string { return n.Dir() + "/" + strconv.Itoa(i) }

// CommitMetaKey is the superblock metadata key holding the target's
// detached metadata.
func (n Name) CommitMetaKey() string { return n.Dir() + "/commitmeta" }

// IndexPath is the delta index file listing the deltas that end at to:
// delta-indexes/TT/REST.index.
func IndexPath(to oid.Checksum) string {
	b := to.ModifiedBase64()
	return "delta-indexes/" + b[:2] + "/" + b[2:] + ".index"
}

// nameFromDir reverses Dir for the two path components under deltas/.
func nameFromDir(prefix, rest string) (Name, error) {
	var n Name
	from, to, pair := strings.Cut(prefix+rest, "-")
	a, err := oid.ParseModifiedBase64(from)
	if err != nil {
		return n, fmt.Errorf("%w: deltas/%s/%s", ErrName, prefix, rest)
	}
	if !pair {
		n.To = a
		return n, nil
	}
	b, err := oid.ParseModifiedBase64(to)
	if err != nil {
		return n, fmt.Errorf("%w: deltas/%s/%s", ErrName, prefix, rest)
	}
	n.From, n.To = a, b
	return n, nil
}
