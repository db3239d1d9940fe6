package compose_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/repotest"
)

// The worked example from ostree-format.md §2.6, verified against ostree 2022.7.
func TestWorkedExample(t *testing.T) {
	ctx := context.Background()
	for _, mode := range repotest.Modes {
		t.Run(mode.String(), func(t *testing.T) {
			r := repotest.NewRepo(t, mode)
			dir := t.TempDir() + "/tree"
			os.Mkdir(dir, 0o755)
			os.Chmod(dir, 0o755)
			repotest.WriteFile(t, dir+"/hello", "hello\n", 0o644)
			tx, err := r.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			mod := compose.NoModifier()
			mod.OwnerUID, mod.OwnerGID, mod.SkipXattrs = 0, 0, true
			root, err := compose.ImportDir(ctx, tx, dir, compose.ImportOptions{Modifier: mod})
			if err != nil {
				t.Fatal(err)
			}
			sum, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{
				Subject:   "subject",
				Timestamp: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
				Metadata:  []gvariant.DictEntry{{Key: object.MetaRefBinding, Value: gvariant.NewVariant("as", []string{"test"})}},
				Branch:    "test",
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := sum.String(), "eef71e7b45bae4fcec708b6e008cb414b5c431dc7eeb892a7a59bf5b9efa31ef"; got != want {
				t.Errorf("commit = %s, want %s", got, want)
			}
			repotest.Ostree(t, "--repo="+r.Path(), "fsck")
			out := repotest.Ostree(t, "--repo="+r.Path(), "cat", "test", "/hello")
			if out != "hello" {
				t.Errorf("ostree cat = %q", out)
			}
		})
	}
}
