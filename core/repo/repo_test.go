package repo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// A config that does not load is refused and changes nothing, on disk
// or live; Config hands out copies, so editing one changes nothing either.
func TestSaveConfigIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	before, err := os.ReadFile(r.Path() + "/config")
	if err != nil {
		t.Fatal(err)
	}
	kf := r.Config()
	kf.Set("core", "fsync", "sometimes")
	if _, err := kf.Bool("core", "fsync", true); err == nil {
		t.Fatal("bad boolean read back")
	}
	if err := r.SaveConfig(ctx, kf); !errors.Is(err, repo.ErrConfig) {
		t.Fatalf("SaveConfig(bad fsync) = %v", err)
	}
	after, _ := os.ReadFile(r.Path() + "/config")
	if string(after) != string(before) {
		t.Errorf("config file changed:\n%s", after)
	}
	if v, ok := r.Config().Get("core", "fsync"); ok {
		t.Errorf("live config has fsync=%q after a failed save, or an edited copy leaked", v)
	}
	kf = r.Config()
	kf.Set("core", "fsync", "false")
	if err := r.SaveConfig(ctx, kf); err != nil || r.Fsync() {
		t.Fatalf("SaveConfig(fsync=false) = %v, Fsync %v", err, r.Fsync())
	}
}

func TestOstreeReadsGroveConfigAndViceVersa(t *testing.T) {
	ctx := context.Background()
	for _, m := range repotest.Modes {
		r := repotest.NewRepo(t, m)
		if got := repotest.Ostree(t, "--repo="+r.Path(), "config", "get", "core.mode"); got != m.String() {
			t.Errorf("ostree config get core.mode = %q, want %q", got, m)
		}
		dir := t.TempDir() + "/o"
		repotest.Ostree(t, "--repo="+dir, "init", "--mode="+m.String())
		o, err := repo.Open(ctx, dir)
		if err != nil || o.Mode() != m {
			t.Errorf("Open(ostree %s repo) = %v, %v", m, o, err)
		}
	}
}

func TestOpenRejectsNonRepos(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := repo.Open(ctx, dir); !errors.Is(err, repo.ErrNotRepo) || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open(empty dir) = %v", err)
	}
	os.Mkdir(dir+"/objects", 0o755)
	os.WriteFile(dir+"/config", []byte("[core]\nrepo_version=2\n"), 0o644)
	if _, err := repo.Open(ctx, dir); !errors.Is(err, repo.ErrConfig) {
		t.Errorf("Open(repo_version=2) = %v", err)
	}
}

func writeFile(t *testing.T, tx *repo.Txn, content string) oid.Checksum {
	t.Helper()
	hdr := &object.FileHeader{Mode: object.ModeReg | 0o644}
	sum, err := tx.WriteContent(context.Background(), hdr, strings.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestTxnAbortLeavesNothingAndCommitMovesRefsLast(t *testing.T) {
	ctx := context.Background()
	for _, m := range repotest.Modes {
		t.Run(m.String(), func(t *testing.T) {
			r := repotest.NewRepo(t, m)
			tx, err := r.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sum := writeFile(t, tx, "aborted\n")
			tx.Abort()
			if ok, _ := r.HasObject(ctx, oid.ObjectName{Checksum: sum, Type: oid.File}); ok {
				t.Fatal("aborted object is visible")
			}
			requireTmpClean(t, r, "abort")

			tx, _ = r.Begin(ctx)
			sum = writeFile(t, tx, "hello\n")
			if sum.String() != "44f778e59f0a4748d6b0c90a47347212a231c4ad1e8f7ea5c5dffc7749153a6b" {
				t.Fatalf("content checksum %s differs from ostree's", sum)
			}
			again := writeFile(t, tx, "hello\n") // dedup inside a transaction
			if again != sum || tx.Stats().ContentWritten != 1 {
				t.Fatalf("duplicate write: %s, stats %+v", again, tx.Stats())
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			c, err := r.OpenContent(ctx, sum)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(c)
			c.Close()
			if b.String() != "hello\n" || c.Header.Mode != object.ModeReg|0o644 {
				t.Fatalf("read back %q mode %o", b.String(), c.Header.Mode)
			}
			requireTmpClean(t, r, "commit")
		})
	}
}

// A transaction too large to fsync object by object (it syncs the
// filesystem) still moves every object, of every fan-out directory, into
// place and leaves nothing staged behind.
func TestTxnLargeCommitMovesEveryObject(t *testing.T) {
	ctx := context.Background()
	for _, m := range repotest.Modes {
		t.Run(m.String(), func(t *testing.T) {
			r := repotest.NewRepo(t, m)
			tx, err := r.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var sums []oid.Checksum
			for i := range 600 {
				sums = append(sums, writeFile(t, tx, fmt.Sprintf("file %d\n", i)))
			}
			meta, err := tx.WriteMeta(ctx, oid.DirMeta, []byte("not parsed here"))
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			fanouts := map[byte]bool{}
			for _, sum := range sums {
				fanouts[sum[0]] = true
				if ok, err := r.HasObject(ctx, oid.ObjectName{Checksum: sum, Type: oid.File}); !ok || err != nil {
					t.Fatalf("object %s missing after commit (%v)", sum, err)
				}
			}
			if ok, _ := r.HasObject(ctx, oid.ObjectName{Checksum: meta, Type: oid.DirMeta}); !ok {
				t.Fatal("dirmeta missing after commit")
			}
			if len(fanouts) < 200 {
				t.Fatalf("only %d fan-out directories exercised", len(fanouts))
			}
			requireTmpClean(t, r, "commit")
		})
	}
}

func TestWriteContentAsRejectsWrongChecksum(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	tx, _ := r.Begin(ctx)
	defer tx.Abort()
	hdr := &object.FileHeader{Mode: object.ModeReg | 0o644}
	claimed := oid.Sum([]byte("not it"))
	err := tx.WriteContentAs(ctx, claimed, hdr, strings.NewReader("data"), 4)
	var ce *object.CorruptError
	if !errors.As(err, &ce) || ce.Name.Checksum != claimed {
		t.Fatalf("err = %v", err)
	}
	if err := tx.WriteContentAs(ctx, claimed, hdr, strings.NewReader("dat"), 4); err == nil || !strings.Contains(err.Error(), "size") {
		t.Fatalf("short payload: %v", err)
	}
}

func TestRefsAliasesAndResolveRev(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	dir := t.TempDir()
	repotest.WriteFile(t, dir+"/f", "1\n", 0o644)
	repotest.Ostree(t, "--repo="+r.Path(), "commit", "-b", "os/main", "--timestamp=2020-01-01T00:00:00Z", "-s", "one", dir)
	repotest.WriteFile(t, dir+"/f", "2\n", 0o644)
	tip := repotest.Ostree(t, "--repo="+r.Path(), "commit", "-b", "os/main", "--timestamp=2020-01-02T00:00:00Z", "-s", "two", dir)
	parent := repotest.Ostree(t, "--repo="+r.Path(), "rev-parse", "os/main^")

	if err := r.CreateAlias(ctx, "stable", "os/main"); err != nil {
		t.Fatal(err)
	}
	if err := r.SetRef(ctx, "origin", "os/main", oid.MustParse(parent)); err != nil {
		t.Fatal(err)
	}
	for rev, want := range map[string]string{
		"os/main": tip, "os/main^": parent, tip[:8]: tip, "stable": tip,
		"origin:os/main": parent, "origin/os/main": parent, tip: tip,
	} {
		got, err := r.ResolveRev(ctx, rev)
		if err != nil || got.String() != want {
			t.Errorf("ResolveRev(%q) = %s, %v; want %s", rev, got, err, want)
		}
		// ostree agrees on everything it can parse.
		if !strings.Contains(rev, "/os/") {
			if o := repotest.Ostree(t, "--repo="+r.Path(), "rev-parse", rev); o != want {
				t.Errorf("ostree rev-parse %s = %s", rev, o)
			}
		}
	}
	for _, rev := range []string{"missing", "os/main^^", "a b"} {
		if _, err := r.ResolveRev(ctx, rev); err == nil {
			t.Errorf("ResolveRev(%q) succeeded", rev)
		}
	}
	refs, err := r.ListRefs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ref := range refs {
		s := ref.Refspec()
		if ref.AliasOf != "" {
			s += "->" + ref.AliasOf
		}
		got = append(got, s)
	}
	if strings.Join(got, " ") != "origin:os/main os/main stable->os/main" {
		t.Errorf("ListRefs = %v", got)
	}
	if err := r.SetRef(ctx, "", "stable", oid.MustParse(parent)); err == nil {
		t.Error("writing through an alias was allowed")
	}
	if err := r.DeleteRef(ctx, "", "nope"); !errors.Is(err, repo.ErrRefNotFound) {
		t.Errorf("DeleteRef(missing) = %v", err)
	}
	// ostree sees the same refs.
	out := repotest.Ostree(t, "--repo="+r.Path(), "refs")
	for _, want := range []string{"os/main", "stable", "origin:os/main"} {
		if !strings.Contains(out, want) {
			t.Errorf("ostree refs lacks %s:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(r.Path(), "refs/heads/stable")); err != nil {
		t.Fatal(err)
	}
}

// ostree takes an exclusive OFD lock for prune; a grove transaction must
// wait for it, and ostree must wait for grove's exclusive lock.
func TestLockExcludesConcurrentOstree(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	unlock, err := r.LockExclusive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kf := r.Config()
	kf.Set("core", "lock-timeout-secs", "1")
	if err := r.SaveConfig(ctx, kf); err != nil {
		t.Fatal(err)
	}
	out, err := repotest.OstreeErr(t, "--repo="+r.Path(), "prune", "--refs-only")
	if err == nil || !strings.Contains(strings.ToLower(out), "lock") {
		t.Fatalf("ostree prune ran while grove held the exclusive lock: %v %s", err, out)
	}
	unlock()
	repotest.Ostree(t, "--repo="+r.Path(), "prune", "--refs-only")

	// And the other way round: a second handle cannot take the lock while
	// the first holds it (OFD locks are per open file description).
	r2, err := repo.Open(ctx, r.Path())
	if err != nil {
		t.Fatal(err)
	}
	unlock, _ = r.LockExclusive(ctx)
	defer unlock()
	if _, err := r2.Begin(ctx); !errors.Is(err, repo.ErrLocked) {
		t.Fatalf("Begin under an exclusive lock = %v, want ErrLocked", err)
	}
}

// Closing an archive object twice must not hand its pooled reader to two
// later users: the second open must still read its own bytes.
func TestOpenContentDoubleCloseIsHarmless(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	tx, _ := r.Begin(ctx)
	a := writeFile(t, tx, "first object\n")
	b := writeFile(t, tx, "second object\n")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := r.OpenContent(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	d, err := r.OpenContent(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	c.Close() // again: must not touch d's pooled reader
	var got bytes.Buffer
	if _, err := got.ReadFrom(d); err != nil || got.String() != "second object\n" {
		t.Fatalf("read %q, %v", got.String(), err)
	}
	d.Close()
}

// Flush moves a large transaction's objects in early; Commit still
// publishes the commit last, and the transaction keeps deduplicating
// against what it flushed.
func TestTxnFlushThenCommit(t *testing.T) {
	ctx := context.Background()
	for _, m := range repotest.Modes {
		t.Run(m.String(), func(t *testing.T) {
			r := repotest.NewRepo(t, m)
			tx, err := r.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			small := writeFile(t, tx, "only one\n")
			if err := tx.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if ok, _ := r.HasObject(ctx, oid.ObjectName{Checksum: small, Type: oid.File}); ok {
				t.Fatal("a small transaction was flushed (its objects are fsynced one by one at Commit)")
			}
			var sums []oid.Checksum
			for i := range 200 {
				sums = append(sums, writeFile(t, tx, fmt.Sprintf("early %d\n", i)))
			}
			commit, err := tx.WriteMeta(ctx, oid.Commit, []byte("stands for a commit"))
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got := tx.Stats().Flushed; got != 201 {
				t.Fatalf("flushed %d objects, want 201", got)
			}
			for _, sum := range append(sums, small) {
				if ok, _ := r.HasObject(ctx, oid.ObjectName{Checksum: sum, Type: oid.File}); !ok {
					t.Fatalf("flushed object %s is not in the repository", sum)
				}
			}
			if ok, _ := r.HasObject(ctx, oid.ObjectName{Checksum: commit, Type: oid.Commit}); ok {
				t.Fatal("a commit object was flushed before Commit")
			}
			writeFile(t, tx, "early 7\n") // already flushed: not written again
			late := writeFile(t, tx, "late\n")
			if st := tx.Stats(); st.ContentWritten != 202 {
				t.Fatalf("content written %d, want 202", st.ContentWritten)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			for _, name := range []oid.ObjectName{{Checksum: late, Type: oid.File}, {Checksum: commit, Type: oid.Commit}} {
				if ok, _ := r.HasObject(ctx, name); !ok {
					t.Fatalf("%s missing after commit", name)
				}
			}
			requireTmpClean(t, r, "commit")
		})
	}
}

// A transaction that stages more than flushEvery bytes flushes in the
// background while it goes on; Commit and Abort wait for that flush, and
// neither leaves anything staged behind.
func TestTxnBackgroundFlush(t *testing.T) {
	ctx := context.Background()
	body := strings.Repeat("background flush\n", 1<<15) // 544 KiB
	for _, commit := range []bool{true, false} {
		t.Run(fmt.Sprintf("commit=%v", commit), func(t *testing.T) {
			r := repotest.NewRepo(t, repo.ModeBareUser)
			tx, err := r.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var sums []oid.Checksum
			for i := range 120 { // 64 MiB
				sums = append(sums, writeFile(t, tx, fmt.Sprintf("%d\n%s", i, body)))
			}
			if commit {
				err = tx.Commit(ctx)
			} else {
				err = tx.Abort()
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := tx.Stats().Flushed; n < 65 {
				t.Fatalf("%d objects flushed in the background, want at least 65", n)
			}
			requireTmpClean(t, r, "finishing")
			present := 0
			for _, sum := range sums {
				if ok, _ := r.HasObject(ctx, oid.ObjectName{Checksum: sum, Type: oid.File}); ok {
					present++
				}
			}
			if commit && present != len(sums) || !commit && present < 65 {
				t.Fatalf("%d of %d objects present after commit=%v", present, len(sums), commit)
			}
		})
	}
}

// requireTmpClean fails unless tmp/ holds only its cache directory: no
// staging directory or staged object left behind.
func requireTmpClean(t *testing.T, r *repo.Repo, after string) {
	t.Helper()
	if ents, _ := os.ReadDir(r.TmpDir()); len(ents) != 1 {
		t.Fatalf("tmp/ not clean after %s: %v", after, ents)
	}
}
