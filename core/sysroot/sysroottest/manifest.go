package sysroottest

import (
	"strings"

	"github.com/groveos/grove/core/internal/manifest"
)

// SkipVolatile leaves out what differs between two equal sysroots for
// reasons that do not matter: the repositories' scratch space and lock
// files.
func SkipVolatile(rel string) bool {
	switch {
	case rel == "ostree/repo/tmp", strings.HasPrefix(rel, "ostree/repo/tmp/"),
		rel == "ostree/repo/.lock", rel == "ostree/lock":
		return true
	}
	return false
}

// Manifest lists a tree for comparison, one sorted line per entry: path,
// mode, owner, link count, then size and content hash or link target.
// Timestamps are left out. skip (may be nil) prunes paths.
func Manifest(dir string, skip func(rel string) bool) (string, error) {
	return manifest.Dir(dir, manifest.Options{Skip: skip, LinkCounts: true})
}

// DiffManifests lists the lines only in a ("- ") or only in b ("+ ").
func DiffManifests(a, b string) string { return manifest.Diff(a, b) }
