package views

import (
	"time"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
)

// CommitInfo is one loaded commit, shared by every screen that lists commits.
type CommitInfo struct {
	Checksum oid.Checksum
	Commit   *object.Commit
	// Partial is true when the commit object is absent (history cut by a
	// shallow pull): Commit is nil then.
	Partial bool
}

// Version returns the commit's "version" metadata, or "".
func (c CommitInfo) Version() string {
	if c.Commit == nil {
		return ""
	}
	return c.Commit.Version()
}

// Time returns the commit timestamp in UTC (zero when not loaded).
func (c CommitInfo) Time() time.Time {
	if c.Commit == nil {
		return time.Time{}
	}
	return c.Commit.Time()
}

// Subject returns the commit subject, or "".
func (c CommitInfo) Subject() string {
	if c.Commit == nil {
		return ""
	}
	return c.Commit.Subject
}

// RefKind says what sort of name a RefInfo is.
type RefKind int

const (
	RefHead   RefKind = iota // refs/heads/NAME
	RefRemote                // refs/remotes/REMOTE/NAME
	RefMirror                // refs/mirrors/REMOTE/NAME
	RefAlias                 // a symbolic ref (AliasOf set)
)

func (k RefKind) String() string {
	return [...]string{"head", "remote", "mirror", "alias"}[k]
}

// RefInfo is one ref with its target commit (Commit nil if not loaded or absent).
type RefInfo struct {
	// Name is the refspec as ostree prints it: "name" or "remote:name".
	Name     string
	Kind     RefKind
	AliasOf  string
	Checksum oid.Checksum
	Commit   *object.Commit
}

// DetachedMeta is a commit's detached metadata (.commitmeta), in stored
// order; nil when the commit has none.
type DetachedMeta []gvariant.DictEntry
