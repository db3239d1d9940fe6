package sysroottest

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
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
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if skip != nil && rel != "." && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		line := fmt.Sprintf("%s %o %d:%d", rel, st.Mode, st.Uid, st.Gid)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" n%d %d %x", st.Nlink, len(b), sha256.Sum256(b))
		case unix.S_IFLNK:
			target, _ := os.Readlink(p)
			line += " -> " + target
		}
		lines = append(lines, line)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n"), err
}

// DiffManifests lists the lines only in a ("- ") or only in b ("+ ").
func DiffManifests(a, b string) string {
	if a == b {
		return ""
	}
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, l := range al {
		inA[l] = true
	}
	for _, l := range bl {
		inB[l] = true
	}
	var out []string
	for _, l := range al {
		if !inB[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range bl {
		if !inA[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
