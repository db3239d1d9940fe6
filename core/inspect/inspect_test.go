package inspect_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// Paths resolve as ostree resolves them: every path that `ostree ls`
// lists, grove finds with the same type; every path it refuses, grove
// refuses, naming the same component.
func TestResolvePathLikeOstreeLs(t *testing.T) {
	ctx := context.Background()
	f := repotest.OstreeFixture(t, repo.ModeArchive)
	r, err := repo.Open(ctx, f.Path)
	if err != nil {
		t.Fatal(err)
	}
	root, err := inspect.Root(ctx, r, f.Commits["main"])
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "", "usr", "/usr/bin/tool", "usr/bin/relative-link", "/usr/share/doc/naïve café/日本語.txt",
		"usr/../usr", "/usr//bin", "usr/", "/nope", "/small.txt/x", "./usr", "/usr/bin/tool/"} {
		out, oerr := repotest.OstreeErr(t, "--repo="+f.Path, "ls", "-d", "main", p)
		e, err := inspect.Lookup(ctx, r, root, p)
		if (err == nil) != (oerr == nil) {
			t.Errorf("%q: grove %v; ostree %v: %s", p, err, oerr, out)
			continue
		}
		if err != nil {
			if !strings.Contains(out, err.Error()) {
				t.Errorf("%q: grove says %q, ostree %q", p, err, strings.TrimSpace(out))
			}
			continue
		}
		if got := e.IsDir(); got != strings.HasPrefix(out, "d") {
			t.Errorf("%q: dir %v, ostree lists %q", p, got, out)
		}
	}
}

// Children come in ostree's enumeration order: files by name, then
// directories by name.
func TestChildrenInOstreeOrder(t *testing.T) {
	ctx := context.Background()
	f := repotest.OstreeFixture(t, repo.ModeBareUser)
	r, err := repo.Open(ctx, f.Path)
	if err != nil {
		t.Fatal(err)
	}
	root, err := inspect.Root(ctx, r, f.Commits["main"])
	if err != nil {
		t.Fatal(err)
	}
	kids, err := inspect.Children(ctx, r, root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range kids {
		got = append(got, k.Path)
	}
	var want []string
	for _, l := range strings.Split(repotest.Ostree(t, "--repo="+f.Path, "ls", "main", "/"), "\n")[1:] {
		fields := strings.Fields(l)
		want = append(want, fields[len(fields)-1])
		if strings.HasPrefix(l, "l") { // "name -> target"
			want[len(want)-1] = fields[len(fields)-3]
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("children %v, ostree ls %v", got, want)
	}
	if _, err := inspect.Children(ctx, r, kids[0]); !errors.Is(err, inspect.ErrNotDir) {
		t.Errorf("children of a file: %v", err)
	}
}
