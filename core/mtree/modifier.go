package mtree

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/repo"
)

// Modifier adjusts what is committed, like ostree's commit modifier and
// the commit CLI's filter. Paths are absolute within the tree ("/", "/usr/bin/sh").
type Modifier struct {
	OwnerUID, OwnerGID   int // -1 keeps the file's own
	CanonicalPermissions bool
	SkipXattrs           bool
	ModeAdd              map[string]uint32 // --statoverride "+MODE PATH": bits ORed into the mode
	ModeSet              map[string]uint32 // --statoverride "=MODE PATH": permission bits replaced
	Skip                 map[string]bool   // --skip-list: paths left out
	// DevIno maps (device, inode) of hardlinks into the repository to their
	// object (--link-checkout-speedup); files found there are not re-read.
	DevIno map[repo.DevIno]oid.Checksum

	mu       sync.Mutex
	usedMode map[string]bool
	usedSkip map[string]bool
}

// NoModifier is the identity modifier.
func NoModifier() *Modifier { return &Modifier{OwnerUID: -1, OwnerGID: -1} }

// Unmatched returns statoverride and skip-list paths that matched nothing;
// ostree treats those as errors.
func (m *Modifier) Unmatched() []string {
	var out []string
	for p := range m.ModeAdd {
		if !m.usedMode[p] {
			out = append(out, p)
		}
	}
	for p := range m.Skip {
		if !m.usedSkip[p] {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Apply runs the filter on one entry's ownership and mode at path
// (absolute in the tree); skip reports a path that must be left out.
func (m *Modifier) Apply(r *repo.Repo, path string, uid, gid, mode *uint32) (skip bool) {
	if m.OwnerUID >= 0 {
		*uid = uint32(m.OwnerUID)
	}
	if m.OwnerGID >= 0 {
		*gid = uint32(m.OwnerGID)
	}
	if add, ok := m.ModeAdd[path]; ok {
		*mode |= add
		m.mu.Lock()
		if m.usedMode == nil {
			m.usedMode = map[string]bool{}
		}
		m.usedMode[path] = true
		m.mu.Unlock()
	} else if set, ok := m.ModeSet[path]; ok {
		// As in ostree 2022.7, overrides are never consumed and an
		// unmatched one is not an error.
		*mode = *mode&object.ModeType | set
	}
	if m.Skip[path] {
		m.mu.Lock()
		if m.usedSkip == nil {
			m.usedSkip = map[string]bool{}
		}
		m.usedSkip[path] = true
		m.mu.Unlock()
		return true
	}
	if m.Canonical(r) {
		switch *mode & object.ModeType {
		case object.ModeReg:
			*mode &= object.ModeReg | 0o755
		case object.ModeDir:
			*mode &= object.ModeDir | 0o755
		}
		*uid, *gid = 0, 0
	}
	return false
}

// Canonical reports whether permissions are canonicalised (the option,
// or a bare-user-only repository).
func (m *Modifier) Canonical(r *repo.Repo) bool {
	return m.CanonicalPermissions || r.Mode() == repo.ModeBareUserOnly
}

// SkipXattrs reports whether xattrs are left out.
func (m *Modifier) SkipXattrsIn(r *repo.Repo) bool {
	return m.SkipXattrs || m.Canonical(r) || r.DisableXattrs()
}

// ImportOptions tune an import (compose.ImportDir, compose.ImportTar).
type ImportOptions struct {
	// Modifier changes what is imported (owners, permissions, xattrs,
	// skipped paths); nil changes nothing.
	Modifier *Modifier
	// Progress receives PhaseImport events: Done counts files and
	// symlinks seen, Bytes the payload bytes written.
	Progress progress.Func
	// Stats, when set, is filled in as the import ends.
	Stats *ImportStats

	// StrictParents (tar only) makes a missing parent directory an error,
	// as ostree without --tar-autocreate-parents; by default parents are
	// created.
	StrictParents bool
	// Root (tar only), when set, is imported into (and returned), as
	// successive --tree options of one commit share ostree's mutable
	// tree: a root that already has a dirmeta keeps it unless the archive
	// sets one.
	Root *Tree
}

// PhaseImport is the progress phase of an import.
const PhaseImport = "importing"

// ImportStats count what an import did.
type ImportStats struct {
	Scanned      int64 // files and symlinks seen
	Written      int64 // content objects newly written
	BytesWritten int64 // their payload bytes
	Reused       int64 // files taken from the devino cache
}

// Counters are an import's live ImportStats.
type Counters struct{ Scanned, Written, Bytes, Reused atomic.Int64 }

func (c *Counters) Stats() ImportStats {
	return ImportStats{Scanned: c.Scanned.Load(), Written: c.Written.Load(), BytesWritten: c.Bytes.Load(), Reused: c.Reused.Load()}
}

// Report sends a progress event and, at the end, fills opts.Stats.
func (c *Counters) Report(opts *ImportOptions, final bool) {
	if opts.Progress != nil {
		opts.Progress(progress.Event{Phase: PhaseImport, Done: c.Scanned.Load(), Bytes: c.Bytes.Load(), Final: final})
	}
	if final && opts.Stats != nil {
		*opts.Stats = c.Stats()
	}
}
