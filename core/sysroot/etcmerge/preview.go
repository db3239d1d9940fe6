package etcmerge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Change is what happened to one path between two directories.
type Change byte

// Changes, as `ostree diff` letters them; None means unchanged.
const (
	None     Change = 0
	Modified Change = 'M'
	Removed  Change = 'D'
	Added    Change = 'A'
)

func (c Change) String() string {
	if c == None {
		return "-"
	}
	return string(c)
}

// Item is one path of a merge preview.
type Item struct {
	Path string
	Dir  bool // a directory (in whichever tree has it)
	// Local is the administrator's change (usr/etc → etc of the merge
	// deployment), Upstream the new defaults' (old usr/etc → new usr/etc).
	Local, Upstream Change
	// LocalDiff and UpstreamDiff are unified diffs of those changes
	// ("" when the change is only owner or mode, or there is none).
	LocalDiff, UpstreamDiff string
}

// Preview classifies every path a merge touches. Applying Merge to the new
// defaults gives: Kept and Conflicts with the local version (or absent
// when removed locally), Added and Updated with the new default, Removed
// absent.
type Preview struct {
	// Kept are local changes upstream did not touch: they carry over.
	Kept []Item
	// Added are new default files; Removed are defaults the new tree
	// drops; Updated are defaults it changes that were never edited.
	Added, Removed, Updated []Item
	// Conflicts changed locally and upstream; the local version wins.
	Conflicts []Item
	// Problems are conditions that will make the merge fail (libostree's
	// message for each).
	Problems []string
}

// Count is the number of paths the preview lists.
func (p *Preview) Count() int {
	return len(p.Kept) + len(p.Added) + len(p.Removed) + len(p.Updated) + len(p.Conflicts)
}

// PreviewMerge computes the preview of merging the local changes
// (origEtc → modifiedEtc) into newDefaults (the new tree's usr/etc).
func PreviewMerge(ctx context.Context, origEtc, modifiedEtc, newDefaults string) (*Preview, error) {
	local, err := Diff(ctx, origEtc, modifiedEtc)
	if err != nil {
		return nil, fmt.Errorf("etcmerge: local changes: %w", err)
	}
	up, err := Diff(ctx, origEtc, newDefaults)
	if err != nil {
		return nil, fmt.Errorf("etcmerge: upstream changes: %w", err)
	}
	lk, uk := kinds(local), kinds(up)
	paths := map[string]bool{}
	for p := range lk {
		paths[p] = true
	}
	for p := range uk {
		paths[p] = true
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	pv := &Preview{}
	for _, p := range sorted {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		it := Item{Path: p, Local: lk[p], Upstream: uk[p]}
		it.Dir = isDir(filepath.Join(modifiedEtc, p)) || isDir(filepath.Join(newDefaults, p)) || isDir(filepath.Join(origEtc, p))
		if it.Local != None {
			it.LocalDiff = FileDiff(filepath.Join(origEtc, p), filepath.Join(modifiedEtc, p), "a/etc/"+p, "b/etc/"+p)
		}
		if it.Upstream != None {
			it.UpstreamDiff = FileDiff(filepath.Join(origEtc, p), filepath.Join(newDefaults, p), "a/usr/etc/"+p, "b/usr/etc/"+p)
		}
		switch {
		case it.Upstream == None:
			pv.Kept = append(pv.Kept, it)
		case it.Local == None && it.Upstream == Added:
			pv.Added = append(pv.Added, it)
		case it.Local == None && it.Upstream == Removed:
			pv.Removed = append(pv.Removed, it)
		case it.Local == None:
			pv.Updated = append(pv.Updated, it)
		default:
			same, err := identical(ctx, filepath.Join(modifiedEtc, p), filepath.Join(newDefaults, p))
			if err != nil {
				return nil, err
			}
			if same {
				pv.Kept = append(pv.Kept, it) // both made the same change
			} else {
				pv.Conflicts = append(pv.Conflicts, it)
			}
		}
		if it.Local == Modified || it.Local == Added {
			if !isDir(filepath.Join(modifiedEtc, p)) && isDir(filepath.Join(newDefaults, p)) && !locallyRemovedAbove(lk, p) {
				pv.Problems = append(pv.Problems, fmt.Sprintf("Modified config file newly defaults to directory '%s', cannot merge", p))
			}
		}
	}
	return pv, nil
}

func kinds(c *Changes) map[string]Change {
	m := map[string]Change{}
	for _, p := range c.Modified {
		m[p] = Modified
	}
	for _, p := range c.Removed {
		m[p] = Removed
	}
	for _, p := range c.Added {
		m[p] = Added
	}
	return m
}

// locallyRemovedAbove reports a locally removed ancestor (the merge
// removes it from the new etc before copying, so no conflict arises).
func locallyRemovedAbove(lk map[string]Change, p string) bool {
	for d := filepath.Dir(p); d != "." && d != "/"; d = filepath.Dir(d) {
		if lk[d] == Removed {
			return true
		}
	}
	return false
}

func isDir(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.IsDir()
}

// identical: both absent, or the same ostree checksum.
func identical(ctx context.Context, a, b string) (bool, error) {
	_, ea := os.Lstat(a)
	_, eb := os.Lstat(b)
	if errors.Is(ea, os.ErrNotExist) || errors.Is(eb, os.ErrNotExist) {
		return errors.Is(ea, os.ErrNotExist) && errors.Is(eb, os.ErrNotExist), nil
	}
	if isDir(a) != isDir(b) {
		return false, nil
	}
	return sameFile(ctx, a, b)
}

// describe renders a path as diff input: file text, a symlink target, or
// nothing for what is absent or a directory; binary is whether it is not
// text.
func describe(p string) (text string, exists, binary bool) {
	st, err := os.Lstat(p)
	if err != nil {
		return "", false, false
	}
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		t, _ := os.Readlink(p)
		return "-> " + t + "\n", true, false
	case st.Mode().IsRegular():
		b, err := os.ReadFile(p)
		if err != nil {
			return "", true, true
		}
		if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
			return "", true, true
		}
		return string(b), true, false
	}
	return "", true, false
}

// FileDiff is a unified diff from a to b (3 lines of context), or a line
// saying what else changed.
func FileDiff(a, b, aname, bname string) string {
	at, aok, abin := describe(a)
	bt, bok, bbin := describe(b)
	if !aok {
		aname = "/dev/null"
	}
	if !bok {
		bname = "/dev/null"
	}
	if abin || bbin {
		return fmt.Sprintf("Binary files %s and %s differ\n", aname, bname)
	}
	var meta string
	if aok && bok {
		sa, _ := os.Lstat(a)
		sb, _ := os.Lstat(b)
		if sa.Mode() != sb.Mode() {
			meta = fmt.Sprintf("mode %s → %s\n", sa.Mode(), sb.Mode())
		}
	}
	if at == bt {
		return meta
	}
	return meta + UnifiedDiff(at, bt, aname, bname, 3)
}

// UnifiedDiff renders a line diff of a and b (sergi/go-diff) in unified
// format with n lines of context.
func UnifiedDiff(a, b, aname, bname string, n int) string {
	dmp := diffmatchpatch.New()
	ca, cb, lines := dmp.DiffLinesToChars(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(ca, cb, false), lines)
	type line struct {
		op   diffmatchpatch.Operation
		text string
	}
	var all []line
	for _, d := range diffs {
		for _, l := range strings.SplitAfter(d.Text, "\n") {
			if l != "" {
				all = append(all, line{d.Type, l})
			}
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aname, bname)
	for i := 0; i < len(all); {
		if all[i].op == diffmatchpatch.DiffEqual {
			i++
			continue
		}
		// a hunk: back up n lines, run until n+n equal lines or the end
		start := max(0, i-n)
		end := i
		for end < len(all) {
			if all[end].op != diffmatchpatch.DiffEqual {
				end++
				continue
			}
			run := 0
			for end+run < len(all) && all[end+run].op == diffmatchpatch.DiffEqual {
				run++
			}
			if end+run == len(all) || run > 2*n {
				end += min(run, n)
				break
			}
			end += run
		}
		aStart, bStart := 1, 1
		for _, l := range all[:start] {
			if l.op != diffmatchpatch.DiffInsert {
				aStart++
			}
			if l.op != diffmatchpatch.DiffDelete {
				bStart++
			}
		}
		aLen, bLen := 0, 0
		var body strings.Builder
		for _, l := range all[start:end] {
			prefix := " "
			switch l.op {
			case diffmatchpatch.DiffDelete:
				prefix = "-"
				aLen++
			case diffmatchpatch.DiffInsert:
				prefix = "+"
				bLen++
			default:
				aLen++
				bLen++
			}
			body.WriteString(prefix + l.text)
			if !strings.HasSuffix(l.text, "\n") {
				body.WriteString("\n\\ No newline at end of file\n")
			}
		}
		if aLen == 0 {
			aStart--
		}
		if bLen == 0 {
			bStart--
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n%s", aStart, aLen, bStart, bLen, body.String())
		i = end
	}
	return out.String()
}
