package pull_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/pull"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// commitTree commits dir to branch in r, on top of the branch's tip.
func commitTree(t *testing.T, r *repo.Repo, dir, branch string, n int) oid.Checksum {
	t.Helper()
	ctx := context.Background()
	tx, err := r.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root, err := compose.ImportDir(ctx, tx, dir, compose.ImportOptions{Modifier: compose.NoModifier()})
	if err != nil {
		t.Fatal(err)
	}
	parent, _ := r.ReadRef(ctx, "", branch)
	sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{
		Subject: fmt.Sprintf("commit %d", n), Parent: parent, Branch: branch,
		Timestamp: time.Unix(1600000000+int64(n), 0),
		Metadata:  []gvariant.DictEntry{{Key: object.MetaRefBinding, Value: gvariant.NewVariant("as", []string{branch})}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestPullLocalEveryModePair(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir() + "/tree"
	repotest.RichTree(t, src)
	for _, from := range repotest.Modes {
		for _, to := range repotest.Modes {
			t.Run(from.String()+"->"+to.String(), func(t *testing.T) {
				a := repotest.NewRepo(t, from)
				first := commitTree(t, a, src, "os/main", 1)
				repotest.WriteFile(t, src+"/added-later", "new\n", 0o644)
				defer os.Remove(src + "/added-later")
				second := commitTree(t, a, src, "os/main", 2)

				b := repotest.NewRepo(t, to)
				for _, untrusted := range []bool{false, true} {
					res, err := pull.Local(ctx, b, a, pull.LocalOptions{Refs: []string{"os/main"}, Depth: -1, Untrusted: untrusted})
					if to == repo.ModeBareUserOnly && from != repo.ModeBareUserOnly {
						// The tree has xattrs, which bare-user-only cannot hold.
						if !errors.Is(err, repo.ErrReadOnly) {
							t.Fatalf("err = %v, want ErrReadOnly", err)
						}
						if _, err := b.ReadRef(ctx, "", "os/main"); err == nil {
							t.Fatal("ref written for an unstorable commit")
						}
						repotest.Ostree(t, "--repo="+b.Path(), "fsck")
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if res.Refs["os/main"] != second {
						t.Fatalf("pulled %v", res.Refs)
					}
				}
				if got, _ := b.ReadRef(ctx, "", "os/main"); got != second {
					t.Fatalf("ref = %s, want %s", got, second)
				}
				if ok, _ := b.HasObject(ctx, oid.ObjectName{Checksum: first, Type: oid.Commit}); !ok {
					t.Fatal("--depth=-1 did not bring the parent")
				}
				repotest.Ostree(t, "--repo="+b.Path(), "fsck")
				out := t.TempDir() + "/co"
				repotest.Ostree(t, "--repo="+b.Path(), "checkout", "os/main", out)
				want := t.TempDir() + "/want"
				repotest.Ostree(t, "--repo="+a.Path(), "checkout", "os/main", want)
				repotest.SameTree(t, want, out)
			})
		}
	}
}

func TestPullLocalDepthRemoteAndMetadataOnly(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir() + "/tree"
	repotest.RichTree(t, src)
	a := repotest.NewRepo(t, repo.ModeBareUser)
	first := commitTree(t, a, src, "os/main", 1)
	repotest.WriteFile(t, src+"/v2", "2\n", 0o644)
	second := commitTree(t, a, src, "os/main", 2)

	b := repotest.NewRepo(t, repo.ModeArchive)
	if _, err := pull.Local(ctx, b, a, pull.LocalOptions{Refs: []string{"os/main"}, Remote: "origin"}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ReadRef(ctx, "origin", "os/main"); err != nil || got != second {
		t.Fatalf("remote ref = %s, %v", got, err)
	}
	if _, err := b.ReadRef(ctx, "", "os/main"); !errors.Is(err, repo.ErrRefNotFound) {
		t.Fatalf("--remote also wrote a local ref: %v", err)
	}
	if ok, _ := b.HasObject(ctx, oid.ObjectName{Checksum: first, Type: oid.Commit}); ok {
		t.Fatal("depth 0 pulled the parent")
	}
	repotest.Ostree(t, "--repo="+b.Path(), "fsck")

	c := repotest.NewRepo(t, repo.ModeArchive)
	if _, err := pull.Local(ctx, c, a, pull.LocalOptions{Refs: []string{"os/main"}, CommitMetadataOnly: true}); err != nil {
		t.Fatal(err)
	}
	if !c.IsPartial(second) {
		t.Fatal("--commit-metadata-only commit not marked partial")
	}
	// Completing the pull clears the mark.
	if _, err := pull.Local(ctx, c, a, pull.LocalOptions{Refs: []string{"os/main"}}); err != nil {
		t.Fatal(err)
	}
	if c.IsPartial(second) {
		t.Fatal("full pull left the commit partial")
	}
	repotest.Ostree(t, "--repo="+c.Path(), "fsck")
}

func TestPullLocalRejectsCorruptSource(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir() + "/tree"
	repotest.WriteFile(t, src+"/f", "precious\n", 0o644)
	a := repotest.NewRepo(t, repo.ModeArchive)
	sum := commitTree(t, a, src, "main", 1)
	c, _ := a.LoadCommit(ctx, sum)
	dt, _ := a.LoadDirTree(ctx, c.RootTree)
	p := a.ObjectPath(oid.ObjectName{Checksum: dt.Files[0].Checksum, Type: oid.File})
	// Re-write the object with different content under the same name.
	other := repotest.NewRepo(t, repo.ModeArchive)
	repotest.WriteFile(t, src+"/f", "tampered\n", 0o644)
	sum2 := commitTree(t, other, src, "main", 1)
	c2, _ := other.LoadCommit(ctx, sum2)
	dt2, _ := other.LoadDirTree(ctx, c2.RootTree)
	bad, _ := os.ReadFile(other.ObjectPath(oid.ObjectName{Checksum: dt2.Files[0].Checksum, Type: oid.File}))
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	b := repotest.NewRepo(t, repo.ModeBareUser)
	_, err := pull.Local(ctx, b, a, pull.LocalOptions{Refs: []string{"main"}, Untrusted: true})
	var ce *object.CorruptError
	if !errors.As(err, &ce) || ce.Name.Checksum != dt.Files[0].Checksum {
		t.Fatalf("err = %v, want CorruptError naming %s", err, dt.Files[0].Checksum)
	}
	if _, err := b.ReadRef(ctx, "", "main"); err == nil {
		t.Fatal("ref written despite a corrupt object")
	}
	if out, err := exec.Command("ostree", "--repo="+b.Path(), "fsck").CombinedOutput(); err != nil {
		t.Fatalf("destination left broken: %s", out)
	}
}

func TestPullLocalVerifiesRefBinding(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir() + "/tree"
	repotest.WriteFile(t, src+"/f", "x\n", 0o644)
	a := repotest.NewRepo(t, repo.ModeArchive)
	sum := commitTree(t, a, src, "bound", 1)
	if err := a.SetRef(ctx, "", "other", sum); err != nil {
		t.Fatal(err)
	}
	b := repotest.NewRepo(t, repo.ModeArchive)
	if _, err := pull.Local(ctx, b, a, pull.LocalOptions{Refs: []string{"other"}}); !errors.Is(err, pull.ErrBinding) {
		t.Fatalf("err = %v, want ErrBinding", err)
	}
	if _, err := pull.Local(ctx, b, a, pull.LocalOptions{Refs: []string{"other"}, DisableVerifyBindings: true}); err != nil {
		t.Fatal(err)
	}
}
