package generate_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/delta/apply"
	"github.com/groveos/grove/core/delta/deltatest"
	"github.com/groveos/grove/core/delta/generate"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

func openPair(t *testing.T, big int) (*deltatest.Pair, *repo.Repo) {
	t.Helper()
	p := deltatest.NewPair(t, big)
	r, err := repo.Open(context.Background(), p.Repo)
	if err != nil {
		t.Fatal(err)
	}
	return p, r
}

// ostreeApply applies the delta with ostree into a fresh bare-user repo
// (holding FROM when from is set) and checks fsck and the checkout.
func ostreeApply(t *testing.T, p *deltatest.Pair, path string, from bool) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "dst")
	repotest.Ostree(t, "--repo="+dst, "init", "--mode=bare-user")
	if from {
		repotest.Ostree(t, "--repo="+dst, "pull-local", p.Repo, p.From)
	}
	repotest.Ostree(t, "--repo="+dst, "static-delta", "apply-offline", path)
	repotest.Ostree(t, "--repo="+dst, "fsck")
	co := filepath.Join(t.TempDir(), "co")
	repotest.Ostree(t, "--repo="+dst, "checkout", "-U", p.To, co)
	repotest.SameTree(t, p.ToDir, co)
}

// Grove's deltas (scratch, from→to with rollsum and bsdiff, inline,
// big-endian, many small parts) apply with ostree, and fsck and the
// checkout agree with the original tree.
func TestOstreeAppliesGroveDeltas(t *testing.T) {
	t.Parallel()
	p, r := openPair(t, 1200<<10)
	from, to := oid.MustParse(p.From), oid.MustParse(p.To)
	cases := []struct {
		name string
		opts generate.Options
	}{
		{"scratch", generate.Options{}},
		{"from-to", generate.Options{From: &from}},
		{"inline", generate.Options{From: &from, Inline: true}},
		{"big-endian", generate.Options{From: &from, Endian: delta.Big}},
		{"small-chunks", generate.Options{MaxChunkSize: 200_000}},
		{"no-bsdiff", generate.Options{From: &from, DisableBsdiff: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := c.opts
			o.To, o.MinFallbackSize, o.MaxBsdiffSize = to, -1, -1
			o.Filename = filepath.Join(t.TempDir(), "superblock")
			res, err := generate.Generate(context.Background(), r, o)
			if err != nil {
				t.Fatal(err)
			}
			if c.name == "from-to" && res.Bsdiff == 0 {
				t.Errorf("no bsdiff")
			}
			if c.name == "no-bsdiff" && (res.Bsdiff != 0 || res.Rollsum == 0) {
				t.Errorf("rollsum %d, bsdiff %d objects with DisableBsdiff", res.Rollsum, res.Bsdiff)
			}
			if c.name == "small-chunks" && res.Parts < 4 {
				t.Errorf("%d parts", res.Parts)
			}
			data, err := os.ReadFile(o.Filename)
			if err != nil {
				t.Fatal(err)
			}
			sb, _, err := delta.ParseFile(data)
			if err != nil || sb.Endian != o.Endian && !(o.Endian == 0 && sb.Endian == delta.Little) {
				t.Fatalf("superblock: %v, endianness %v", err, sb.Endian)
			}
			ostreeApply(t, p, o.Filename, o.From != nil)
		})
	}
}

// Generation is deterministic: the same inputs and time give the same
// bytes, whatever the parallelism.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	p, r := openPair(t, 0)
	from, to := oid.MustParse(p.From), oid.MustParse(p.To)
	var first [][]byte
	for _, jobs := range []int{1, 3} {
		dir := t.TempDir()
		_, err := generate.Generate(context.Background(), r, generate.Options{From: &from, To: to, MinFallbackSize: -1, MaxBsdiffSize: -1,
			MaxChunkSize: 100_000, Jobs: jobs, Now: time.Unix(1700000000, 0), Filename: filepath.Join(dir, "superblock")})
		if err != nil {
			t.Fatal(err)
		}
		var files [][]byte
		for _, n := range []string{"superblock", "0", "1", "2"} {
			b, _ := os.ReadFile(filepath.Join(dir, n))
			files = append(files, b)
		}
		if first == nil {
			first = files
			continue
		}
		for i := range files {
			if !bytes.Equal(files[i], first[i]) {
				t.Fatalf("file %d differs between Jobs=1 and Jobs=3", i)
			}
		}
	}
}

// A delta generated into the repository lands in deltas/, is listed,
// and re-generating replaces it (fewer parts leave no stale ones).
func TestGenerateIntoRepo(t *testing.T) {
	t.Parallel()
	p, r := openPair(t, 0)
	ctx := context.Background()
	from, to := oid.MustParse(p.From), oid.MustParse(p.To)
	o := generate.Options{From: &from, To: to, MinFallbackSize: -1, MaxBsdiffSize: -1, MaxChunkSize: 50_000}
	res, err := generate.Generate(ctx, r, o)
	if err != nil {
		t.Fatal(err)
	}
	n := delta.Name{From: from, To: to}
	if res.SuperblockPath != filepath.Join(p.Repo, n.SuperblockPath()) || res.Parts < 2 {
		t.Fatalf("%+v", res)
	}
	names, err := delta.List(ctx, r)
	if err != nil || len(names) != 1 || names[0] != n {
		t.Fatalf("list %v %v", names, err)
	}
	o.MaxChunkSize, o.Inline = 0, true
	if _, err := generate.Generate(ctx, r, o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p.Repo, n.PartPath(0))); !os.IsNotExist(err) {
		t.Fatalf("part file left beside an inline delta: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Dir(filepath.Join(p.Repo, n.Dir())))
	if len(ents) != 1 {
		t.Fatalf("temporary directories left: %v", ents)
	}
	ostreeApply(t, p, filepath.Join(p.Repo, n.Dir()), true)
}

// Grove's own apply takes grove's deltas into every mode.
func TestGroveRoundTrip(t *testing.T) {
	t.Parallel()
	p, r := openPair(t, 0)
	from, to := oid.MustParse(p.From), oid.MustParse(p.To)
	sb := filepath.Join(t.TempDir(), "superblock")
	if _, err := generate.Generate(context.Background(), r, generate.Options{From: &from, To: to, MinFallbackSize: -1, MaxBsdiffSize: -1, Filename: sb}); err != nil {
		t.Fatal(err)
	}
	for _, mode := range repotest.Modes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			dst := repotest.NewRepo(t, mode)
			repotest.Ostree(t, "--repo="+dst.Path(), "pull-local", p.Repo, p.From)
			if _, err := apply.Offline(context.Background(), dst, sb, apply.Options{}); err != nil {
				t.Fatal(err)
			}
			repotest.Ostree(t, "--repo="+dst.Path(), "fsck")
		})
	}
}

var _ = strconv.Itoa
