package apply_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/delta/apply"
	"github.com/groveos/grove/core/delta/deltatest"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// dirFiles reads a repository's files from disk, as a pull source would
// over HTTP; missing files are fs.ErrNotExist.
type dirFiles string

func (d dirFiles) ReadFile(_ context.Context, p string, max int64) ([]byte, error) {
	f, err := os.Open(filepath.Join(string(d), p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max+1))
}

func notFound(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func TestPullThroughDeltas(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 0)
	ctx := context.Background()
	from, to := oid.MustParse(p.From), oid.MustParse(p.To)
	repotest.Ostree(t, "--repo="+p.Repo, "static-delta", "generate", "--empty", "--to="+p.To)
	repotest.Ostree(t, "--repo="+p.Repo, "static-delta", "generate", "--from="+p.From, "--to="+p.To)
	repotest.Ostree(t, "--repo="+p.Repo, "summary", "-u")
	srv, err := repo.Open(ctx, p.Repo)
	if err != nil {
		t.Fatal(err)
	}
	listed := []delta.IndexEntry{}
	for _, n := range []delta.Name{{To: to}, {From: from, To: to}} {
		d, err := delta.Digest(srv, n)
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, delta.IndexEntry{Name: n, Digest: d})
	}
	pull := func(t *testing.T, r *repo.Repo, req apply.PullRequest) (bool, error) {
		t.Helper()
		req.Files, req.NotFound, req.To = dirFiles(p.Repo), notFound, to
		tx, err := r.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := apply.Pull(ctx, tx, req, apply.Options{})
		if err != nil || !ok {
			tx.Abort()
			return ok, err
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := apply.Missing(ctx, r, to); err != nil || n != 0 {
			t.Fatalf("%d objects missing after the delta (%v)", n, err)
		}
		return ok, nil
	}
	t.Run("scratch from the summary", func(t *testing.T) {
		r := repotest.NewRepo(t, repo.ModeBareUser)
		if ok, err := pull(t, r, apply.PullRequest{Listed: listed, HaveSummary: true}); !ok || err != nil {
			t.Fatalf("%v %v", ok, err)
		}
	})
	t.Run("from the index", func(t *testing.T) {
		r := repotest.NewRepo(t, repo.ModeArchive)
		repotest.Ostree(t, "--repo="+r.Path(), "pull-local", p.Repo, p.From)
		if ok, err := pull(t, r, apply.PullRequest{Indexed: true, From: from}); !ok || err != nil {
			t.Fatalf("%v %v", ok, err)
		}
	})
	t.Run("client commit not listed", func(t *testing.T) {
		r := repotest.NewRepo(t, repo.ModeBareUser)
		other := oid.Sum([]byte("elsewhere"))
		if ok, err := pull(t, r, apply.PullRequest{Listed: listed, HaveSummary: true, From: other}); ok || err != nil {
			t.Fatalf("%v %v", ok, err)
		}
	})
	t.Run("no index", func(t *testing.T) {
		r := repotest.NewRepo(t, repo.ModeBareUser)
		req := apply.PullRequest{Indexed: true}
		req.Files, req.NotFound, req.To = dirFiles(t.TempDir()), notFound, to
		tx, _ := r.Begin(ctx)
		defer tx.Abort()
		if ok, err := apply.Pull(ctx, tx, req, apply.Options{}); ok || err != nil {
			t.Fatalf("%v %v", ok, err)
		}
	})
	t.Run("digest mismatch", func(t *testing.T) {
		r := repotest.NewRepo(t, repo.ModeBareUser)
		bad := append([]delta.IndexEntry(nil), listed...)
		bad[0].Digest[0] ^= 1
		if _, err := pull(t, r, apply.PullRequest{Listed: bad, HaveSummary: true}); !errors.Is(err, apply.ErrDigest) {
			t.Fatalf("err = %v", err)
		}
		assertEmpty(t, r)
	})
	t.Run("probe without summary", func(t *testing.T) {
		r := repotest.NewRepo(t, repo.ModeBareUser)
		if ok, err := pull(t, r, apply.PullRequest{}); !ok || err != nil {
			t.Fatalf("%v %v", ok, err)
		}
	})
}
