package tui

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/demo"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"github.com/groveos/grove/views"
)

func demoServices(t *testing.T) *Services {
	t.Helper()
	r, err := repo.Open(context.Background(), demoPath)
	if err != nil {
		t.Fatal(err)
	}
	return &Services{Repo: r, RepoPath: demoPath}
}

func TestTreeFileDiffAdaptersOverDemoRepo(t *testing.T) {
	ctx := context.Background()
	s := demoServices(t)
	head, err := s.Resolve(ctx, demo.BranchBase)
	if err != nil {
		t.Fatal(err)
	}
	root, err := s.ReadDir(ctx, head, "/")
	if err != nil || len(root) == 0 {
		t.Fatalf("root: %v %v", root, err)
	}
	etc, err := s.ReadDir(ctx, head, "/etc")
	if err != nil {
		t.Fatal(err)
	}
	var file views.TreeEntry
	for _, e := range etc {
		if !e.IsDir() && !e.IsSymlink() && e.Size > 0 {
			file = e
			break
		}
	}
	if file.Name == "" {
		t.Fatalf("no regular file in /etc: %+v", etc)
	}
	fi, err := s.StatFile(ctx, head, file.Path)
	if err != nil || fi.Size != file.Size || fi.Checksum != file.Checksum {
		t.Fatalf("stat %+v, %v; entry %+v", fi, err, file)
	}
	b, err := s.ReadFileAt(ctx, head, file.Path, 0, int(fi.Size)+10)
	if err != nil || int64(len(b)) != fi.Size {
		t.Fatalf("read %d bytes, %v", len(b), err)
	}
	if _, err := s.ReadDir(ctx, head, "/no/such/dir"); err == nil {
		t.Fatal("missing dir: no error")
	}

	h, _ := s.History(ctx, head, 30)
	old := h[len(h)-1].Checksum
	entries, err := s.DiffCommits(ctx, old, head)
	if err != nil || len(entries) == 0 {
		t.Fatalf("diff: %v %v", entries, err)
	}
	for _, e := range entries {
		if e.Kind == 'M' && !e.Dir {
			d, err := s.DiffFile(ctx, old, head, e.Path)
			if err != nil || (d.Old == nil && !d.TooLarge) || (bytes.Equal(d.Old, d.New) && !d.TooLarge) {
				t.Fatalf("content of %s: %v (%d/%d bytes)", e.Path, err, len(d.Old), len(d.New))
			}
			return
		}
	}
	t.Fatalf("no modified file between %s and %s: %v", old, head, entries)
}

// ReadFileAt reads any range of a committed file, forward and backward, in
// archive (deflate stream) and bare-user (seekable loose file) repositories.
func TestReadFileAtRandomRanges(t *testing.T) {
	ctx := context.Background()
	payload := make([]byte, 3<<20+17)
	for i := range payload {
		payload[i] = byte(i*31 + i/977)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "big.bin"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("big.bin", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []repo.Mode{repo.ModeArchive, repo.ModeBareUser} {
		t.Run(mode.String(), func(t *testing.T) {
			r := repotest.NewRepo(t, mode)
			s := &Services{Repo: r, RepoPath: r.Path()}
			run := s.ActionRun(views.ActionRequest{Kind: views.ActCommit, Source: src, Branch: "b", Subject: "s"})
			if _, err := run(ctx, nil); err != nil {
				t.Fatal(err)
			}
			head, _ := r.ReadRef(ctx, "", "b")
			for _, p := range []string{"/big.bin", "/link"} {
				fi, err := s.StatFile(ctx, head, p)
				if err != nil || fi.Size != int64(len(payload)) {
					t.Fatalf("%s: %+v %v", p, fi, err)
				}
				for _, off := range []int64{0, 65536, 2 << 20, 4096, int64(len(payload)) - 5, 1 << 20, 0} {
					got, err := s.ReadFileAt(ctx, head, p, off, 65536)
					want := payload[off:min(off+65536, int64(len(payload)))]
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("%s at %d: %d bytes, %v", p, off, len(got), err)
					}
				}
			}
		})
	}
}

var pinned = time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)

// The commit and union actions write the very commits `ostree commit`
// writes for the equivalent command line, and ostree fsck accepts them.
func TestCommitAndUnionActionsMatchOstreeCommit(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	repotest.RichTree(t, tree)
	tools := filepath.Join(dir, "tools")
	repotest.WriteFile(t, filepath.Join(tools, "usr", "bin", "tool"), "#!/bin/sh\necho tool\n", 0o755)
	repotest.WriteFile(t, filepath.Join(tools, "etc", "tool.conf"), "x=1\n", 0o644)

	tarball := filepath.Join(dir, "tools.tar.gz")
	if out, err := exec.Command("tar", "-C", tools, "-czf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}

	ours := filepath.Join(dir, "ours")
	theirs := filepath.Join(dir, "theirs")
	for _, p := range []string{ours, theirs} {
		repotest.Ostree(t, "init", "--repo="+p, "--mode=archive")
	}
	r, err := repo.Open(ctx, ours)
	if err != nil {
		t.Fatal(err)
	}
	s := &Services{Repo: r, RepoPath: ours}
	ts := "--timestamp=" + pinned.Format(time.RFC3339)

	var calls int
	progress := func(done, total int64) { calls++ }
	reqs := []views.ActionRequest{
		{Kind: views.ActCommit, Source: tree, Branch: "os/base", Subject: "Base 1.0", Body: "first", Version: "1.0", Timestamp: pinned},
		{Kind: views.ActCommit, Source: tools, Branch: "os/tools", Subject: "Tools", Timestamp: pinned},
		{Kind: views.ActCommit, Source: tools, Branch: "os/base", Subject: "Base 1.1", Version: "1.1", Timestamp: pinned},
		{Kind: views.ActUnion, Refs: []string{"os/base", "os/tools"}, Branch: "os/composed", Subject: "Composed", Timestamp: pinned},
		{Kind: views.ActCommit, Source: tarball, Tar: true, Branch: "os/tar", Subject: "From tar", Timestamp: pinned},
	}
	ostreeArgs := [][]string{
		{"commit", "--repo=" + theirs, "--branch=os/base", "--subject=Base 1.0", "--body=first", "--add-metadata-string=version=1.0", ts, tree},
		{"commit", "--repo=" + theirs, "--branch=os/tools", "--subject=Tools", ts, tools},
		{"commit", "--repo=" + theirs, "--branch=os/base", "--subject=Base 1.1", "--add-metadata-string=version=1.1", ts, tools},
		{"commit", "--repo=" + theirs, "--branch=os/composed", "--subject=Composed", ts, "--tree=ref=os/base", "--tree=ref=os/tools"},
		{"commit", "--repo=" + theirs, "--branch=os/tar", "--subject=From tar", ts, "--tree=tar=" + tarball},
	}
	for i, req := range reqs {
		summary, err := s.ActionRun(req)(ctx, progress)
		if err != nil {
			t.Fatalf("%s: %v", views.CommandLine(ours, req), err)
		}
		want := repotest.Ostree(t, ostreeArgs[i]...)
		got, _ := r.ReadRef(ctx, "", req.Branch)
		if got.String() != want || !strings.Contains(summary, want) {
			t.Fatalf("%s\n gave %s (%q), ostree %s", views.CommandLine(ours, req), got, summary, want)
		}
	}
	if calls == 0 {
		t.Error("no progress reported")
	}
	repotest.Ostree(t, "fsck", "--repo="+ours)
	c, _ := r.LoadCommit(ctx, mustRef(t, r, "os/base"))
	if c.Parent.IsZero() || c.Version() != "1.1" {
		t.Fatalf("second commit: parent %s version %q", c.Parent, c.Version())
	}
}

func mustRef(t *testing.T, r *repo.Repo, ref string) oid.Checksum {
	t.Helper()
	sum, err := r.ReadRef(context.Background(), "", ref)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestCheckoutResetDeletePruneFsckActions(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	s := &Services{Repo: r, RepoPath: r.Path()}
	src := t.TempDir()
	repotest.WriteFile(t, filepath.Join(src, "etc", "os-release"), "VERSION=1\n", 0o644)
	do := func(req views.ActionRequest) (string, error) { return s.ActionRun(req)(ctx, func(int64, int64) {}) }
	for i, v := range []string{"1", "2"} {
		repotest.WriteFile(t, filepath.Join(src, "etc", "os-release"), "VERSION="+v+"\n", 0o644)
		if _, err := do(views.ActionRequest{Kind: views.ActCommit, Source: src, Branch: "main", Subject: v}); err != nil {
			t.Fatal(i, err)
		}
	}
	if _, err := do(views.ActionRequest{Kind: views.ActCommit, Source: src, Branch: "other", Subject: "o"}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "co")
	if _, err := do(views.ActionRequest{Kind: views.ActCheckout, Commit: "main^", Dest: dest, User: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "etc", "os-release")); string(b) != "VERSION=1\n" {
		t.Fatalf("checkout of main^: %q", b)
	}
	tip := mustRef(t, r, "main")
	c, _ := r.LoadCommit(ctx, tip)
	if _, err := do(views.ActionRequest{Kind: views.ActReset, Ref: "main", Commit: "main^"}); err != nil {
		t.Fatal(err)
	}
	if got := mustRef(t, r, "main"); got != c.Parent {
		t.Fatalf("reset: main at %s, want %s", got, c.Parent)
	}
	if _, err := do(views.ActionRequest{Kind: views.ActReset, Ref: "nope", Commit: "main"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("reset of a missing ref: %v", err)
	}
	if _, err := do(views.ActionRequest{Kind: views.ActDeleteRef, Ref: "other"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadRef(ctx, "", "other"); err == nil {
		t.Fatal("ref other still there")
	}
	sum, err := do(views.ActionRequest{Kind: views.ActPrune, RefsOnly: true, Depth: -1})
	if err != nil || !strings.Contains(sum, "deleted") {
		t.Fatalf("prune: %q %v", sum, err)
	}
	if has, _ := r.HasObject(ctx, oid.ObjectName{Type: oid.Commit, Checksum: tip}); has {
		t.Fatal("pruned tip commit still present")
	}
	sum, err = do(views.ActionRequest{Kind: views.ActFsck})
	if err != nil || !strings.Contains(sum, "no problems") {
		t.Fatalf("fsck: %q %v", sum, err)
	}
}
