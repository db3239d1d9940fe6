package summary_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/core/summary"
)

// fixture: an archive repo made by ostree with two branches, a remote ref
// and a mirrored ref of another collection.
func fixture(t *testing.T) (*repo.Repo, oid.Checksum) {
	t.Helper()
	repotest.NeedOstree(t)
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	repotest.WriteFile(t, tree+"/f", "x\n", 0o644)
	p := filepath.Join(dir, "repo")
	repotest.Ostree(t, "--repo="+p, "init", "--mode=archive")
	c := repotest.Ostree(t, "--repo="+p, "commit", "-b", "b/two", "--tree=dir="+tree, "--add-metadata-string=version=2.0", "--timestamp=2024-01-01T00:00:00Z")
	repotest.Ostree(t, "--repo="+p, "refs", "--create=a/one", c)
	repotest.Ostree(t, "--repo="+p, "refs", "--create=origin:rem", c)
	repotest.Ostree(t, "--repo="+p, "refs", "--collections", "--create=org.example.Other:m/x", c)
	r, err := repo.Open(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return r, oid.MustParse(c)
}

func TestGenerateMatchesOstree(t *testing.T) {
	r, c := fixture(t)
	ctx := context.Background()
	now := time.Unix(1700000000, 0)
	ours, err := summary.Generate(ctx, r, summary.Options{Now: now, Extra: []gvariant.DictEntry{{Key: "custom", Value: gvariant.NewVariant("u", uint32(7))}}})
	if err != nil {
		t.Fatal(err)
	}
	repotest.Ostree(t, "--repo="+r.Path(), "summary", "-u", "--add-metadata=custom=uint32 7")
	theirs, err := os.ReadFile(filepath.Join(r.Path(), "summary"))
	if err != nil {
		t.Fatal(err)
	}
	o := decode(t, ours)
	th := decode(t, theirs)
	// Refs: the same bytes (heads only, sorted; remote refs left out).
	if !bytes.Equal(mustMarshal(t, "a(s(taya{sv}))", o[0]), mustMarshal(t, "a(s(taya{sv}))", th[0])) {
		t.Errorf("refs differ:\ngrove  %v\nostree %v", o[0], th[0])
	}
	if n := len(o[0].([]any)); n != 2 {
		t.Errorf("%d refs, want a/one and b/two", n)
	}
	// Metadata: the same keys and values, last-modified aside (dict order is
	// hash order in ostree).
	om, tm := dict(o[1]), dict(th[1])
	delete(om, summary.KeyLastModified)
	delete(tm, summary.KeyLastModified)
	if len(om) != len(tm) {
		t.Errorf("metadata keys differ:\ngrove  %v\nostree %v", om, tm)
	}
	for k, v := range tm {
		if gvariant.Print(v.Type, v.Value, true) != gvariant.Print(om[k].Type, om[k].Value, true) {
			t.Errorf("%s: grove %s, ostree %s", k, gvariant.Print(om[k].Type, om[k].Value, true), gvariant.Print(v.Type, v.Value, true))
		}
	}
	cm, ok := om[summary.KeyCollectionMap]
	if !ok || !bytes.Contains(mustMarshal(t, "a{sa(s(taya{sv}))}", cm.Value), c[:]) {
		t.Errorf("collection map missing the mirrored ref: %v", om)
	}
}

func TestUpdateSignsAndSyncs(t *testing.T) {
	r, _ := fixture(t)
	ctx := context.Background()
	var signed []byte
	err := summary.Update(ctx, r, summary.Options{Sign: func(_ context.Context, s []byte) ([]byte, error) {
		signed = s
		return []byte("signature bytes"), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(r.Path(), "summary"))
	sig, _ := os.ReadFile(filepath.Join(r.Path(), "summary.sig"))
	if !bytes.Equal(data, signed) || string(sig) != "signature bytes" {
		t.Fatalf("signed %d bytes of %d; sig %q", len(signed), len(data), sig)
	}
	st1, _ := os.Stat(filepath.Join(r.Path(), "summary"))
	st2, _ := os.Stat(filepath.Join(r.Path(), "summary.sig"))
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Errorf("summary mtime %v, summary.sig %v", st1.ModTime(), st2.ModTime())
	}
	// Unsigned again: the old signature goes.
	if err := summary.Update(ctx, r, summary.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r.Path(), "summary.sig")); !os.IsNotExist(err) {
		t.Fatalf("stale summary.sig: %v", err)
	}
	// No temporary directory left behind.
	ents, _ := os.ReadDir(r.TmpDir())
	for _, e := range ents {
		if len(e.Name()) > 8 && e.Name()[:8] == "summary-" {
			t.Errorf("left %s", e.Name())
		}
	}
	repotest.Ostree(t, "--repo="+r.Path(), "summary", "--view")
}

func decode(t *testing.T, b []byte) gvariant.Tuple {
	t.Helper()
	v, err := gvariant.Unmarshal(summary.Type, b)
	if err != nil {
		t.Fatal(err)
	}
	return v.(gvariant.Tuple)
}

func dict(v any) map[string]gvariant.Variant {
	out := map[string]gvariant.Variant{}
	for _, e := range v.([]gvariant.DictEntry) {
		out[e.Key.(string)] = e.Value.(gvariant.Variant)
	}
	return out
}

func mustMarshal(t *testing.T, sig string, v any) []byte {
	t.Helper()
	b, err := gvariant.Marshal(gvariant.MustParseType(sig), v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
