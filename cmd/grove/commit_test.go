package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

// commitPair is one repository made by ostree and one made by grove, in
// the same mode, so that the same command line can be run on both.
type commitPair struct {
	t            *testing.T
	ostree, mine string
}

func newCommitPair(t *testing.T, mode repo.Mode, extraInit ...string) *commitPair {
	t.Helper()
	repotest.NeedOstree(t)
	dir := t.TempDir()
	p := &commitPair{t: t, ostree: filepath.Join(dir, "ostree-repo"), mine: filepath.Join(dir, "grove-repo")}
	repotest.Ostree(t, append([]string{"--repo=" + p.ostree, "init", "--mode=" + mode.String()}, extraInit...)...)
	grove(t, append([]string{"--repo=" + p.mine, "init", "--mode=" + mode.String()}, extraInit...)...)
	return p
}

// both runs `commit args...` with ostree and grove and requires the same
// output (the commit checksum), which it returns.
func (p *commitPair) both(args ...string) string {
	p.t.Helper()
	want := repotest.Ostree(p.t, append([]string{"--repo=" + p.ostree, "commit"}, args...)...)
	got := strings.TrimSpace(grove(p.t, append([]string{"--repo=" + p.mine, "commit"}, args...)...))
	if got != want {
		p.t.Fatalf("commit %s:\n grove  %s\n ostree %s", strings.Join(args, " "), got, want)
	}
	return got
}

// check fscks grove's repository with ostree and compares what ostree
// reports about both repositories.
func (p *commitPair) check(commit string) {
	p.t.Helper()
	repotest.Ostree(p.t, "--repo="+p.mine, "fsck")
	for _, args := range [][]string{
		{"refs"},
		{"show", commit},
		{"ls", "-R", "-X", commit},
		{"log", commit},
	} {
		want := repotest.Ostree(p.t, append([]string{"--repo=" + p.ostree}, args...)...)
		got := repotest.Ostree(p.t, append([]string{"--repo=" + p.mine}, args...)...)
		if got != want {
			p.t.Errorf("ostree %s differs:\ngrove repo:\n%s\nostree repo:\n%s", strings.Join(args, " "), got, want)
		}
	}
}

// checkout checks a commit of grove's repository out with ostree.
func (p *commitPair) checkout(commit string) string {
	p.t.Helper()
	dst := filepath.Join(p.t.TempDir(), "co")
	repotest.Ostree(p.t, "--repo="+p.mine, "checkout", commit, dst)
	return dst
}

var commonCommitArgs = []string{
	"-b", "os/x86_64/main", "-s", "The subject", "-m", "A body\nwith two lines",
	"--timestamp=2021-06-01T12:34:56Z",
	"--add-metadata-string=version=42.1", "--add-metadata-string=version=dup",
	"--add-metadata=num=42", "--add-metadata=big=uint64 18446744073709551615",
	"--add-metadata=flag=true", "--add-metadata=list=['a', 'b']", "--add-metadata=ints=[1, 2, 3]",
	"--add-metadata=tuple=(int16 -3, byte 7, 'x')", "--add-metadata=dict={'k': <1.5>}",
	"--add-metadata=bytes=b'abc'", "--add-metadata=var=<@mi nothing>",
	"--owner-uid=0", "--owner-gid=0",
}

// TestCommitRichTreeSameChecksumAsOstreeEveryMode is the core
// compatibility promise: the same command line gives the same commit in
// every mode, and ostree reads grove's result back unchanged.
func TestCommitRichTreeSameChecksumAsOstreeEveryMode(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	repotest.RichTree(t, src)
	for _, mode := range repotest.Modes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			p := newCommitPair(t, mode)
			sum := p.both(append(commonCommitArgs, src)...)
			p.check(sum)
			co := p.checkout(sum)
			if mode == repo.ModeBareUserOnly {
				// Permissions and xattrs are canonicalised: compare with
				// what ostree checks out of its own commit.
				want := filepath.Join(t.TempDir(), "want")
				repotest.Ostree(t, "--repo="+p.ostree, "checkout", sum, want)
				repotest.SameTree(t, want, co)
			} else {
				repotest.SameTree(t, src, co)
			}
			for _, f := range []string{"/usr/lib/withxattr", "/big.bin"} {
				want, err1 := repotest.OstreeErr(t, "--repo="+p.ostree, "cat", sum, f)
				got, err2 := repotest.OstreeErr(t, "--repo="+p.mine, "cat", sum, f)
				if err1 != nil || err2 != nil || got != want {
					t.Errorf("ostree cat %s: grove repo %q (%v), ostree repo %q (%v)", f, got, err2, want, err1)
				}
			}
			// A second commit on the branch takes the tip as parent.
			sum2 := p.both("-b", "os/x86_64/main", "--timestamp=@1700000000", "-s", "second", src)
			p.check(sum2)
		})
	}
}

// TestCommitOptionsSameChecksumAsOstree runs scenarios of several commits
// each through both tools.
func TestCommitOptionsSameChecksumAsOstree(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	repotest.RichTree(t, a)
	repotest.WriteFile(t, b+"/usr/bin/sh", "overlaid shell\n", 0o755)
	repotest.WriteFile(t, b+"/extra/file", "extra\n", 0o600)
	repotest.WriteFile(t, b+"/usr/lib/modules/6.1.0-9-amd64/vmlinuz", "kernel", 0o644)
	os.Chmod(b, 0o700)
	statFile := filepath.Join(base, "statoverride")
	repotest.WriteFile(t, statFile, "+2048 /usr/bin/sh\n\n+1024 /extra\n+512 /\n+2048 /etc/secret\n", 0o644)
	setFile := filepath.Join(base, "statoverride-set")
	repotest.WriteFile(t, setFile, "=448 /usr/bin/tool\n=493 /etc\n+2048 /small.txt\n=384 /no/such/path\n", 0o644)
	skipFile := filepath.Join(base, "skip")
	repotest.WriteFile(t, skipFile, "/usr/lib\n/extra/file\n", 0o644)
	bodyFile := filepath.Join(base, "body")
	repotest.WriteFile(t, bodyFile, "body from a file\n\nsecond paragraph\n", 0o644)
	tarball := filepath.Join(base, "b.tar.gz")
	if out, err := exec.Command("tar", "-C", b, "-czf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	ts := "--timestamp=2020-02-02 10:00:00 +0100"
	common := []string{ts, "--owner-uid=0", "--owner-gid=0", "--no-xattrs", "--fsync=false"}

	cases := []struct {
		name     string
		bareUser bool
		init     []string
		steps    [][]string
	}{
		{name: "multiple trees overlay in order", steps: [][]string{
			{"-b", "m", "--tree=dir=" + a, "--tree=dir=" + b},
			{"-b", "m2", "--tree=dir=" + b, "--tree=dir=" + a},
		}},
		{name: "tree=ref overlays a commit", steps: [][]string{
			{"-b", "base", a},
			{"-b", "m", "--tree=ref=base", "--tree=dir=" + b},
			{"-b", "m", "--tree=dir=" + b, "--tree=ref=base", "--parent=none"},
		}},
		{name: "skip-if-unchanged prints the parent", steps: [][]string{
			{"-b", "m", a},
			{"-b", "m", "--skip-if-unchanged", "--timestamp=@5", a},
			{"-b", "m", "--skip-if-unchanged", "--timestamp=@5", b},
		}},
		{name: "tar tree overlays a directory", steps: [][]string{
			{"-b", "m", "--tree=dir=" + a, "--tree=tar=" + tarball},
			{"-b", "m", "--tar-autocreate-parents", "--tree=tar=" + tarball},
		}},
		{name: "statoverride adds bits", bareUser: true, steps: [][]string{
			{"-b", "m", "--statoverride=" + statFile, "--tree=dir=" + a, "--tree=dir=" + b},
		}},
		{name: "statoverride =MODE replaces permission bits", bareUser: true, steps: [][]string{
			{"-b", "m", "--statoverride=" + setFile, "--tree=dir=" + a, "--tree=dir=" + a},
		}},
		{name: "skip-list leaves paths out", steps: [][]string{
			{"-b", "m", "--skip-list=" + skipFile, "--tree=dir=" + a, "--tree=dir=" + b},
		}},
		{name: "canonical permissions", bareUser: true, steps: [][]string{
			{"-b", "m", "--canonical-permissions", a},
		}},
		{name: "orphan has an empty ref binding", steps: [][]string{
			{"--orphan", a},
			{"--orphan", "--no-bindings", a},
			{"--orphan", "-b", "x", a},
		}},
		{name: "explicit parent and none", steps: [][]string{
			{"-b", "p", a},
			{"-b", "m", "--parent=" + "p-tip", b},
			{"-b", "p", "--parent=none", b},
		}},
		{name: "bind-ref and no-bindings", steps: [][]string{
			{"-b", "m", "--bind-ref=zz", "--bind-ref=aa", a},
			{"-b", "m", "--no-bindings", a},
		}},
		{name: "collection binding", init: []string{"--collection-id=org.example.Os"}, steps: [][]string{
			{"-b", "m", a},
			{"-b", "m", "--add-metadata-string=ostree.collection-binding=org.other.Id", a},
		}},
		{name: "keep-metadata from parent", steps: [][]string{
			{"-b", "m", "--add-metadata-string=version=1", "--add-metadata=n=uint32 7", a},
			{"-b", "m", "--keep-metadata=n", "--keep-metadata=version", "--add-metadata-string=x=y", a},
		}},
		{name: "bootable finds the kernel", steps: [][]string{
			{"-b", "m", "--bootable", "--add-metadata-string=version=1", "--tree=dir=" + a, "--tree=dir=" + b},
			{"-b", "m", "--bootable", "--no-bindings", "--tree=dir=" + a, "--tree=dir=" + b},
		}},
		{name: "body file and subject", steps: [][]string{
			{"-b", "m", "-s", "subj", "--body-file=" + bodyFile, a},
		}},
		{name: "timestamp forms", steps: [][]string{
			{"-b", "m", "--timestamp=2020-01-01T00:00:00Z", a},
			{"-b", "m", "--timestamp=2020-01-01T05:30:00+05:30", a},
			{"-b", "m", "--timestamp=2020-01-01 00:00:00 UTC", a},
			{"-b", "m", "--timestamp=@1234567890", a},
			{"-b", "m", "--timestamp=2019-12-31 23:00:00 -0100", a},
		}},
		{name: "link-checkout-speedup and fsync flags accepted", steps: [][]string{
			{"-b", "m", "--link-checkout-speedup", "--fsync=false", "--tar-autocreate-parents", a},
		}},
	}
	for _, c := range cases {
		// Archive for every case; the bare-user variant where the mode
		// changes what is hashed.
		modes := []repo.Mode{repo.ModeArchive}
		if c.bareUser {
			modes = append(modes, repo.ModeBareUser)
		}
		for _, mode := range modes {
			t.Run(mode.String()+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				p := newCommitPair(t, mode, c.init...)
				var last string
				for _, step := range c.steps {
					args := append(append([]string{}, common...), step...)
					for i, s := range args {
						if s == "--parent=p-tip" {
							args[i] = "--parent=" + strings.TrimSpace(repotest.Ostree(t, "--repo="+p.ostree, "rev-parse", "p"))
						}
					}
					last = p.both(args...)
				}
				// Equal checksums prove equal commits; fsck proves grove
				// stored every object the way ostree expects.
				repotest.Ostree(t, "--repo="+p.mine, "fsck")
				if want, got := repotest.Ostree(t, "--repo="+p.ostree, "refs"), repotest.Ostree(t, "--repo="+p.mine, "refs"); got != want {
					t.Errorf("refs: grove %q, ostree %q", got, want)
				}
				_ = last
			})
		}
	}
}

// TestCommitSkipIfUnchangedWritesNothing checks that the skipped commit
// leaves the repository exactly as it was.
func TestCommitSkipIfUnchangedWritesNothing(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	repotest.WriteFile(t, src+"/f", "x", 0o644)
	r := filepath.Join(t.TempDir(), "repo")
	grove(t, "--repo="+r, "init", "--mode=archive")
	first := grove(t, "--repo="+r, "commit", "-b", "m", src)
	before := repoSnapshot(t, r)
	again := grove(t, "--repo="+r, "commit", "-b", "m", "--skip-if-unchanged", "--timestamp=@99", src)
	if again != first {
		t.Errorf("skip-if-unchanged printed %q, want the parent %q", again, first)
	}
	if after := repoSnapshot(t, r); after != before {
		t.Errorf("repository changed:\n%s\nvs\n%s", before, after)
	}
}

// TestCommitDetachedMetadataReadableByOstree checks .commitmeta.
func TestCommitDetachedMetadataReadableByOstree(t *testing.T) {
	repotest.NeedOstree(t)
	src := filepath.Join(t.TempDir(), "src")
	repotest.WriteFile(t, src+"/f", "x", 0o644)
	for _, mode := range repotest.Modes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			r := filepath.Join(t.TempDir(), "repo")
			grove(t, "--repo="+r, "init", "--mode="+mode.String())
			sum := strings.TrimSpace(grove(t, "--repo="+r, "commit", "-b", "m",
				"--add-detached-metadata-string=sig=abc", "--add-detached-metadata-string=other=x=y", src))
			for k, want := range map[string]string{"sig": "'abc'", "other": "'x=y'"} {
				got := repotest.Ostree(t, "--repo="+r, "show", "--print-detached-metadata-key="+k, sum)
				if got != want {
					t.Errorf("detached %s = %q, want %q", k, got, want)
				}
			}
			repotest.Ostree(t, "--repo="+r, "fsck")
		})
	}
}

// TestCommitInterleavedWithOstreeSameRepo commits with grove into a repo
// ostree created and with ostree into a repo grove created.
func TestCommitInterleavedWithOstreeSameRepo(t *testing.T) {
	repotest.NeedOstree(t)
	src := filepath.Join(t.TempDir(), "src")
	repotest.RichTree(t, src)
	for _, mode := range repotest.Modes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			byOstree, byGrove := filepath.Join(dir, "o"), filepath.Join(dir, "g")
			repotest.Ostree(t, "--repo="+byOstree, "init", "--mode="+mode.String())
			grove(t, "--repo="+byGrove, "init", "--mode="+mode.String())
			for _, r := range []string{byOstree, byGrove} {
				c1 := repotest.Ostree(t, "--repo="+r, "commit", "--fsync=false", "-b", "m", "--timestamp=@1", src)
				c2 := strings.TrimSpace(grove(t, "--repo="+r, "commit", "--fsync=false", "-b", "m", "--timestamp=@2", "-s", "g", src))
				c3 := repotest.Ostree(t, "--repo="+r, "commit", "--fsync=false", "-b", "m", "--timestamp=@3", src)
				repotest.Ostree(t, "--repo="+r, "fsck")
				log := repotest.Ostree(t, "--repo="+r, "log", "m")
				for _, c := range []string{c1, c2, c3} {
					if !strings.Contains(log, "commit "+c) {
						t.Errorf("%s: ostree log lacks %s:\n%s", r, c, log)
					}
				}
			}
		})
	}
}

// TestCommitConsumeEmptiesSource checks --consume.
func TestCommitConsumeEmptiesSource(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	repotest.WriteFile(t, src+"/d/f", "x", 0o644)
	r := filepath.Join(t.TempDir(), "repo")
	grove(t, "--repo="+r, "init", "--mode=bare-user")
	grove(t, "--repo="+r, "commit", "-b", "m", "--consume", src)
	ents, err := os.ReadDir(src)
	if err != nil || len(ents) != 0 {
		t.Errorf("source after --consume: %v %v", ents, err)
	}
}

// TestCommitBadInputFailsAndLeavesRepoUntouched checks errors: exit 1, a
// message naming the input, no ref change and no new objects.
func TestCommitBadInputFailsAndLeavesRepoUntouched(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	repotest.WriteFile(t, src+"/f", "x", 0o644)
	repotest.WriteFile(t, src+"/g", "y", 0o644)
	r := filepath.Join(base, "repo")
	grove(t, "--repo="+r, "init", "--mode=archive")
	grove(t, "--repo="+r, "commit", "-b", "m", src)
	statFile := filepath.Join(base, "stat")
	repotest.WriteFile(t, statFile, "+2048 /f\n+2048 /nope\n", 0o644)
	setFile := filepath.Join(base, "statoverride-set")
	repotest.WriteFile(t, setFile, "=448 /usr/bin/tool\n=493 /etc\n+2048 /small.txt\n=384 /no/such/path\n", 0o644)
	skipFile := filepath.Join(base, "skip")
	repotest.WriteFile(t, skipFile, "/missing\n", 0o644)
	notRepo := filepath.Join(base, "notrepo")
	os.Mkdir(notRepo, 0o755)
	cases := []struct {
		name    string
		repo    string
		args    []string
		mention string
	}{
		{"invalid ref name", r, []string{"-b", "a//b", src}, "a//b"},
		{"ref name starting with dash", r, []string{"--branch=-x", src}, "-x"},
		{"ref name with space", r, []string{"-b", "a b", src}, "a b"},
		{"no branch and not orphan", r, []string{src}, "--branch"},
		{"unknown parent", r, []string{"-b", "m", "--parent=deadbeef" + strings.Repeat("0", 56), src}, "deadbeef"},
		{"unknown parent ref", r, []string{"-b", "m", "--parent=nosuchref", src}, "nosuchref"},
		{"unknown tree ref", r, []string{"-b", "m", "--tree=ref=nosuchref"}, "nosuchref"},
		{"missing dir", r, []string{"-b", "m", filepath.Join(base, "missing")}, "missing"},
		{"file as dir", r, []string{"-b", "m", src + "/f"}, src + "/f"},
		{"bad tree type", r, []string{"-b", "m", "--tree=zip=" + src}, "zip"},
		{"tree without type", r, []string{"-b", "m", "--tree=" + src}, src},
		{"unmatched statoverride", r, []string{"-b", "m", "--statoverride=" + statFile, src}, "/nope"},
		{"unmatched skip-list", r, []string{"-b", "m", "--skip-list=" + skipFile, src}, "/missing"},
		{"bad timestamp", r, []string{"-b", "m", "--timestamp=yesterday-ish", src}, "yesterday-ish"},
		{"bad metadata text", r, []string{"-b", "m", "--add-metadata=k=[1,", src}, "k=[1,"},
		{"metadata without =", r, []string{"-b", "m", "--add-metadata-string=novalue", src}, "novalue"},
		{"keep-metadata missing key", r, []string{"-b", "m", "--keep-metadata=nokey", src}, "nokey"},
		{"canonical with owner", r, []string{"-b", "m", "--canonical-permissions", "--owner-uid=5", src}, "--owner-uid"},
		{"not a repo", notRepo, []string{"-b", "m", src}, notRepo},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := repoSnapshot(t, r)
			out, errOut, err := groveErr(t, append([]string{"--repo=" + c.repo, "commit"}, c.args...)...)
			var ee *exec.ExitError
			if err == nil || !errorsAs(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("want exit 1, got %v (stdout %q)", err, out)
			}
			if out != "" {
				t.Errorf("stdout %q on failure", out)
			}
			if !strings.Contains(errOut, c.mention) {
				t.Errorf("stderr %q does not mention %q", errOut, c.mention)
			}
			if after := repoSnapshot(t, r); after != before {
				t.Errorf("repository changed:\n%s\nvs\n%s", before, after)
			}
		})
	}
}

func errorsAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

// repoSnapshot lists every file of a repository outside tmp/ with its
// size and, for refs, its content.
func repoSnapshot(t testing.TB, r string) string {
	t.Helper()
	var lines []string
	err := filepath.Walk(r, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(r, p)
		if rel == "tmp" || rel == ".lock" {
			if fi.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		line := rel
		if !fi.IsDir() && strings.HasPrefix(rel, "refs/") {
			data, _ := os.ReadFile(p)
			line += " " + strings.TrimSpace(string(data))
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestCommitRefTreeReappliesModifier commits a tree with ownership, modes
// and xattrs, then re-commits it through --tree=ref= under each option
// that changes metadata: ostree applies the modifier to every entry of the
// ref tree (new content objects where a header changes), so must grove.
func TestCommitRefTreeReappliesModifier(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	repotest.RichTree(t, a)
	repotest.WriteFile(t, b+"/usr/bin/sh", "overlaid shell\n", 0o755)
	statFile := filepath.Join(base, "statoverride")
	repotest.WriteFile(t, statFile, "+2048 /etc/secret\n=448 /usr/bin/tool\n", 0o644)
	skipFile := filepath.Join(base, "skip")
	repotest.WriteFile(t, skipFile, "/usr/lib\n/small.txt\n", 0o644)
	ts := "--timestamp=2021-03-04T05:06:07Z"
	for _, mode := range []repo.Mode{repo.ModeArchive, repo.ModeBareUser} {
		t.Run(mode.String(), func(t *testing.T) {
			p := newCommitPair(t, mode)
			p.both(ts, "--fsync=false", "-b", "base", "--tree=dir="+a)
			for _, opts := range [][]string{
				{"--owner-uid=42", "--owner-gid=43"},
				{"--no-xattrs"},
				{"--canonical-permissions"},
				{"--statoverride=" + statFile},
				{"--skip-list=" + skipFile},
				{"--owner-uid=7", "--tree=dir=" + b}, // a directory overlaid with a modified ref tree
				{"--link-checkout-speedup"},          // no metadata option: the trees are reused
			} {
				args := append([]string{ts, "--fsync=false", "-b", "m", "--tree=ref=base"}, opts...)
				p.both(args...)
			}
			p.check("m")
		})
	}
}
