package etcmerge

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type tree map[string]string // path → content; "dir/" a directory; "@target" a symlink

func write(t *testing.T, root string, tr tree) {
	t.Helper()
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for p, c := range tr {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c, "@") {
			if err := os.Symlink(c[1:], full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// read lists a tree back: files with content, dirs with "/", links "@".
func read(t *testing.T, root string) tree {
	t.Helper()
	out := tree{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		switch {
		case d.IsDir():
			out[rel+"/"] = ""
		case d.Type()&os.ModeSymlink != 0:
			tg, _ := os.Readlink(p)
			out[rel] = "@" + tg
		default:
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		}
		return nil
	})
	return out
}

// threeTrees builds orig (old defaults), mod (what the machine runs) and
// new (new defaults) covering every case the merge distinguishes.
func threeTrees(t *testing.T) (orig, mod, newd string) {
	dir := t.TempDir()
	orig, mod, newd = filepath.Join(dir, "orig"), filepath.Join(dir, "mod"), filepath.Join(dir, "new")
	base := tree{
		"untouched":        "same everywhere\n",
		"edited":           "default\n",
		"deleted":          "default\n",
		"upstream-changed": "v1\n",
		"both-changed":     "v1\nline2\nline3\n",
		"upstream-removed": "soon gone\n",
		"conf.d/":          "",
		"conf.d/a.conf":    "a\n",
		"link":             "@target-1",
		"gone-dir/":        "",
		"gone-dir/x":       "x\n",
	}
	write(t, orig, base)
	write(t, mod, base)
	write(t, newd, base)
	// local changes
	write(t, mod, tree{"edited": "edited locally\n", "both-changed": "v1\nline2 local\nline3\n", "userfile": "mine\n",
		"conf.d/b.conf": "b\n", "newdir/sub/f": "deep\n", "link2": "@mine"})
	os.Remove(filepath.Join(mod, "deleted"))
	os.RemoveAll(filepath.Join(mod, "gone-dir"))
	os.Remove(filepath.Join(mod, "link"))
	os.Symlink("target-local", filepath.Join(mod, "link"))
	// upstream changes
	write(t, newd, tree{"upstream-changed": "v2\n", "both-changed": "v2\nline2\nline3\n", "newfile": "new default\n"})
	os.Remove(filepath.Join(newd, "upstream-removed"))
	return
}

func TestMergeLocalChangesWin(t *testing.T) {
	ctx := context.Background()
	orig, mod, newd := threeTrees(t)
	var msgs []string
	c, err := Merge(ctx, orig, mod, newd, Options{OnMessage: func(m string) { msgs = append(msgs, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0] != "Copying /etc changes: 3 modified, 2 removed, 6 added" {
		t.Fatalf("messages %q (changes %+v)", msgs, c)
	}
	got := read(t, newd)
	want := tree{
		"untouched": "same everywhere\n", "edited": "edited locally\n", "upstream-changed": "v2\n",
		"both-changed": "v1\nline2 local\nline3\n", "conf.d/": "", "conf.d/a.conf": "a\n", "conf.d/b.conf": "b\n",
		"link": "@target-local", "link2": "@mine", "userfile": "mine\n", "newfile": "new default\n",
		"newdir/": "", "newdir/sub/": "", "newdir/sub/f": "deep\n",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s", k)
		}
	}
}

// The preview predicts exactly what Merge leaves in the new etc.
func TestPreviewPredictsMerge(t *testing.T) {
	ctx := context.Background()
	orig, mod, newd := threeTrees(t)
	pv, err := PreviewMerge(ctx, orig, mod, newd)
	if err != nil {
		t.Fatal(err)
	}
	names := func(items []Item) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.Path)
		}
		return out
	}
	checks := []struct {
		what      string
		got, want []string
	}{
		{"kept", names(pv.Kept), []string{"conf.d/b.conf", "deleted", "edited", "gone-dir", "link", "link2", "newdir", "newdir/sub", "newdir/sub/f", "userfile"}},
		{"added", names(pv.Added), []string{"newfile"}},
		{"removed", names(pv.Removed), []string{"upstream-removed"}},
		{"updated", names(pv.Updated), []string{"upstream-changed"}},
		{"conflicts", names(pv.Conflicts), []string{"both-changed"}},
	}
	for _, c := range checks {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if len(pv.Problems) != 0 {
		t.Errorf("problems %q", pv.Problems)
	}
	cf := pv.Conflicts[0]
	if cf.Local != Modified || cf.Upstream != Modified ||
		!strings.Contains(cf.LocalDiff, "-line2\n+line2 local\n") || !strings.Contains(cf.UpstreamDiff, "-v1\n+v2\n") {
		t.Fatalf("conflict item %+v", cf)
	}
	if _, err := Merge(ctx, orig, mod, newd, Options{}); err != nil {
		t.Fatal(err)
	}
	result := read(t, newd)
	modTree := read(t, mod)
	exists := func(p string) bool {
		_, f := result[p]
		_, d := result[p+"/"]
		return f || d
	}
	for _, it := range append(append([]Item{}, pv.Kept...), pv.Conflicts...) {
		if it.Local == Removed {
			if exists(it.Path) {
				t.Errorf("%s: removed locally but present after merge", it.Path)
			}
		} else if result[it.Path] != modTree[it.Path] {
			t.Errorf("%s: %q after merge, local version %q", it.Path, result[it.Path], modTree[it.Path])
		}
	}
	for _, it := range pv.Removed {
		if exists(it.Path) {
			t.Errorf("%s: should be gone", it.Path)
		}
	}
	for _, it := range append(append([]Item{}, pv.Added...), pv.Updated...) {
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(newd), "new", it.Path))
		if result[it.Path] != string(b) {
			t.Errorf("%s: not the new default", it.Path)
		}
	}
}

// A local file where the new defaults have a directory cannot merge: the
// preview says so, and Merge fails with libostree's message.
func TestMergeFileVersusNewDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	orig, mod, newd := filepath.Join(dir, "o"), filepath.Join(dir, "m"), filepath.Join(dir, "n")
	write(t, orig, tree{"x": "file\n"})
	write(t, mod, tree{"x": "edited\n"})
	write(t, newd, tree{"x/": "", "x/inner": "now a dir\n"})
	pv, err := PreviewMerge(ctx, orig, mod, newd)
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Problems) != 1 || !strings.Contains(pv.Problems[0], "newly defaults to directory 'x'") {
		t.Fatalf("problems %q", pv.Problems)
	}
	_, err = Merge(ctx, orig, mod, newd, Options{})
	if !errors.Is(err, ErrMerge) || err.Error() != "Modified config file newly defaults to directory 'x', cannot merge" {
		t.Fatalf("err = %v", err)
	}
}

// Modes and owners count as changes; the copy keeps mode and mtime.
func TestMergeCopiesMetadata(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	orig, mod, newd := filepath.Join(dir, "o"), filepath.Join(dir, "m"), filepath.Join(dir, "n")
	for _, d := range []string{orig, mod, newd} {
		write(t, d, tree{"secret": "s\n", "private/": "", "private/key": "k\n"})
	}
	os.Chmod(filepath.Join(mod, "secret"), 0o600)
	os.Chmod(filepath.Join(mod, "private"), 0o700)
	os.WriteFile(filepath.Join(mod, "private/key"), []byte("k2\n"), 0o644)
	c, err := Merge(ctx, orig, mod, newd, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Modified, []string{"private", "private/key", "secret"}) && !slices.Equal(sorted(c.Modified), []string{"private", "private/key", "secret"}) {
		t.Fatalf("modified %q", c.Modified)
	}
	for p, want := range map[string]os.FileMode{"secret": 0o600, "private": 0o700 | os.ModeDir} {
		st, err := os.Lstat(filepath.Join(newd, p))
		if err != nil || st.Mode() != want {
			t.Errorf("%s mode %v, want %v (%v)", p, st.Mode(), want, err)
		}
	}
	ms, _ := os.Stat(filepath.Join(mod, "private/key"))
	ns, _ := os.Stat(filepath.Join(newd, "private/key"))
	if !ms.ModTime().Equal(ns.ModTime()) {
		t.Errorf("mtime not kept: %v vs %v", ms.ModTime(), ns.ModTime())
	}
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// UnifiedDiff's hunks equal GNU diff -u's for simple edits.
func TestUnifiedDiffMatchesGNUDiff(t *testing.T) {
	if _, err := exec.LookPath("diff"); err != nil {
		t.Skip("no diff(1)")
	}
	var lines []string
	for i := 0; i < 30; i++ {
		lines = append(lines, "line "+strings.Repeat("x", i%4)+string(rune('a'+i%26)))
	}
	a := strings.Join(lines, "\n") + "\n"
	cases := map[string]string{
		"one change":     strings.Replace(a, "line c", "LINE C", 1),
		"two far hunks":  strings.Replace(strings.Replace(a, "line b", "B", 1), "line xxxd", "D!", 1),
		"insert at end":  a + "tail\n",
		"delete at head": a[strings.Index(a, "\n")+1:],
		"close changes":  strings.Replace(strings.Replace(a, "line c", "C", 1), "line xxxh", "H", 1),
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), []byte(a), 0o644)
	for name, b := range cases {
		os.WriteFile(filepath.Join(dir, "b"), []byte(b), 0o644)
		out, _ := exec.Command("diff", "-u", filepath.Join(dir, "a"), filepath.Join(dir, "b")).Output()
		want := string(out[strings.Index(string(out), "@@"):])
		got := UnifiedDiff(a, b, "a", "b", 3)
		got = got[strings.Index(got, "@@"):]
		if got != want {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", name, got, want)
		}
	}
}
