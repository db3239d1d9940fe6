// Package manifest describes a directory tree as sorted text lines, for
// tests, benchmarks and demos that compare two trees (a grove checkout
// and an ostree one, two sysroots): one line per entry with its path,
// mode, owner, size and content hash or link target, optionally link
// counts and user xattrs. Timestamps are left out (ostree keeps none).
package manifest

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/groveos/grove/core/internal/fsutil"
	"golang.org/x/sys/unix"
)

// Options choose what a manifest shows.
type Options struct {
	// Skip, when set, prunes paths (relative to the tree).
	Skip func(rel string) bool
	// LinkCounts adds each regular file's link count ("n2").
	LinkCounts bool
	// UserXattrs adds user.* xattrs (not user.ostreemeta).
	UserXattrs bool
}

// Dir lists the tree at dir.
func Dir(dir string, opts Options) (string, error) {
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if opts.Skip != nil && rel != "." && opts.Skip(rel) {
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
			if opts.LinkCounts {
				line += fmt.Sprintf(" n%d", st.Nlink)
			}
			line += fmt.Sprintf(" %d %x", len(b), sha256.Sum256(b))
		case unix.S_IFLNK:
			target, _ := os.Readlink(p)
			line += " -> " + target
		}
		if opts.UserXattrs {
			xs, err := fsutil.ListXattrs(p)
			if err != nil {
				return err
			}
			for _, x := range xs {
				if strings.HasPrefix(x.Name, "user.") && x.Name != "user.ostreemeta" {
					line += fmt.Sprintf(" %s=%q", x.Name, x.Value)
				}
			}
		}
		lines = append(lines, line)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n"), err
}

// Diff lists the lines only in a ("- ") or only in b ("+ "); "" when
// they are equal.
func Diff(a, b string) string {
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
