package apply_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/delta/apply"
	"github.com/groveos/grove/core/delta/deltatest"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// checkApplied runs ostree fsck on r and compares ostree's checkout of
// commit with want.
func checkApplied(t *testing.T, r *repo.Repo, commit, want string) {
	t.Helper()
	if r.IsPartial(oid.MustParse(commit)) {
		t.Fatal("commit still partial")
	}
	repotest.Ostree(t, "--repo="+r.Path(), "fsck")
	co := filepath.Join(t.TempDir(), "co")
	args := []string{"--repo=" + r.Path(), "checkout"}
	if m := r.Mode(); m == repo.ModeBareUser || m == repo.ModeBareUserOnly {
		args = append(args, "-U")
	}
	repotest.Ostree(t, append(args, commit, co)...)
	repotest.SameTree(t, want, co)
}

// generate makes a delta with ostree into a fresh directory and returns
// the superblock path.
func generate(t *testing.T, p *deltatest.Pair, args ...string) string {
	t.Helper()
	sb := filepath.Join(t.TempDir(), "superblock")
	repotest.Ostree(t, append([]string{"--repo=" + p.Repo, "static-delta", "generate", "--to=" + p.To, "--filename=" + sb}, args...)...)
	return sb
}

// Deltas written by ostree (scratch, from→to with rollsum and bsdiff,
// inline, big-endian, many small parts) apply into every repository mode,
// archive included, and ostree fsck accepts the result.
func TestApplyOstreeDeltas(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 1200<<10)
	ctx := context.Background()
	cases := []struct {
		name string
		args []string
		from bool
	}{
		{"scratch", []string{"--empty"}, false},
		{"from-to", []string{"--from=" + p.From}, true},
		{"inline", []string{"--from=" + p.From, "--inline"}, true},
		{"big-endian", []string{"--from=" + p.From, "--set-endianness=B"}, true},
		{"small-chunks", []string{"--empty", "--max-chunk-size=1"}, false},
	}
	for _, c := range cases {
		sb := generate(t, p, c.args...)
		// Every mode for the delta that patches old objects (ostree aborts
		// on it in archive mode), two for scratch, one for the format
		// variants.
		modes := repotest.Modes
		switch c.name {
		case "scratch":
			modes = []repo.Mode{repo.ModeArchive, repo.ModeBareUser}
		case "inline", "small-chunks":
			modes = []repo.Mode{repo.ModeArchive}
		case "big-endian":
			modes = []repo.Mode{repo.ModeBareUser}
		}
		for _, mode := range modes {
			t.Run(c.name+"/"+mode.String(), func(t *testing.T) {
				t.Parallel()
				r := repotest.NewRepo(t, mode)
				if c.from {
					repotest.Ostree(t, "--repo="+r.Path(), "pull-local", p.Repo, p.From)
				}
				res, err := apply.Offline(ctx, r, sb, apply.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if res.Stats.Objects == 0 {
					t.Fatal("no objects")
				}
				// apply-offline writes no ref.
				if refs, _ := r.ListRefs(ctx); len(refs) != 0 {
					t.Fatalf("refs written: %v", refs)
				}
				checkApplied(t, r, p.To, p.ToDir)
			})
		}
	}
}

// The delta directory works as PATH as well as the superblock file.
func TestApplyDirectory(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 0)
	repotest.Ostree(t, "--repo="+p.Repo, "static-delta", "generate", "--empty", "--to="+p.To)
	n := delta.Name{To: oid.MustParse(p.To)}
	r := repotest.NewRepo(t, repo.ModeBareUser)
	if _, err := apply.Offline(context.Background(), r, filepath.Join(p.Repo, n.Dir()), apply.Options{}); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, r, p.To, p.ToDir)
}

// A from-delta into a repository that lacks FROM is refused with
// ostree's message, leaving nothing behind.
func TestApplyWithoutFrom(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 0)
	sb := generate(t, p, "--from="+p.From)
	r := repotest.NewRepo(t, repo.ModeArchive)
	_, err := apply.Offline(context.Background(), r, sb, apply.Options{})
	if !errors.Is(err, apply.ErrFromMissing) || !strings.Contains(err.Error(), "which is the delta source, is not in repository") {
		t.Fatalf("err = %v", err)
	}
	assertEmpty(t, r)
}

// Fallback objects cannot be applied offline unless present already.
func TestApplyFallbackOffline(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 1200<<10)
	sb := generate(t, p, "--empty", "--min-fallback-size=1")
	data, _ := os.ReadFile(sb)
	s, _, err := delta.ParseFile(data)
	if err != nil || len(s.Fallbacks) != 1 {
		t.Fatalf("fallbacks %v, %v", s, err)
	}
	r := repotest.NewRepo(t, repo.ModeBareUser)
	if _, err := apply.Offline(context.Background(), r, sb, apply.Options{}); !errors.Is(err, apply.ErrFallback) {
		t.Fatalf("err = %v", err)
	}
	assertEmpty(t, r)
	// With the big file already there (a pull of TO's objects would bring
	// it), the delta applies.
	repotest.Ostree(t, "--repo="+r.Path(), "pull-local", p.Repo, p.To)
	if _, err := apply.Offline(context.Background(), r, sb, apply.Options{}); err != nil {
		t.Fatal(err)
	}
}

// assertEmpty fails if r holds any object or a partial marker.
func assertEmpty(t *testing.T, r *repo.Repo) {
	t.Helper()
	n := 0
	r.ListObjects(context.Background(), func(oid.ObjectName) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d objects left", n)
	}
	if m, _ := filepath.Glob(filepath.Join(r.Path(), "state", "*.commitpartial")); len(m) != 0 {
		t.Fatalf("partial markers left: %v", m)
	}
}
