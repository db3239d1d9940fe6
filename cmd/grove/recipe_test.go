package main

// The OSTree build-system recipe (ostree's docs, "Writing a buildsystem and
// managing repositories") run end to end with the grove binary, on the
// installed files of Debian's bash and libc6, and judged with the real
// ostree.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/groveos/grove/core/repotest"
	"golang.org/x/sys/unix"
)

// recipeNeed fails under CI, and skips elsewhere, when something the recipe
// runs is missing: /dev/fuse, fusermount (the recipe's spelling), ldconfig,
// dpkg, and the reference ostree.
func recipeNeed(t *testing.T) {
	t.Helper()
	repotest.NeedOstree(t)
	var missing []string
	if _, err := os.Stat("/dev/fuse"); err != nil {
		missing = append(missing, "/dev/fuse")
	}
	for _, tool := range []string{"fusermount", "ldconfig", "dpkg", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "recipe test needs " + strings.Join(missing, ", ") +
		" (fuse3 with fusermount -> fusermount3, libc-bin, dpkg)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// recipeRun runs a command in dir and returns its standard output; a
// non-zero exit fails the test.
func recipeRun(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	out, errOut, err := recipeRunErr(dir, bin, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr: %s", filepath.Base(bin), strings.Join(args, " "), err, errOut)
	}
	return out
}

func recipeRunErr(dir, bin string, args ...string) (string, string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "TZ=UTC")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// recipeTarball writes dir/name: the directories, regular files and
// symlinks that dpkg lists for pkg, with paths relative to /, made with
// `tar czf`. On merged-/usr systems /bin, /lib and /lib64 are symlinks
// while the package ships them as directories, so the tree is staged
// first (real bytes, modes and mtimes) with those entries as directories.
// extra files are added (path → content, mode 0644).
func recipeTarball(t *testing.T, dir, name, pkg string, extra map[string]string) {
	t.Helper()
	out, err := exec.Command("dpkg", "-L", pkg).Output()
	if err != nil {
		t.Fatalf("dpkg -L %s: %v", pkg, err)
	}
	var paths []string
	isParent := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l == "/." || !strings.HasPrefix(l, "/") {
			continue
		}
		paths = append(paths, l)
		for p := filepath.Dir(l); p != "/"; p = filepath.Dir(p) {
			isParent[p] = true
		}
	}
	stage := filepath.Join(dir, "stage-"+pkg)
	if err := os.Mkdir(stage, 0o755); err != nil {
		t.Fatal(err)
	}
	var list []string
	seen := map[string]bool{}
	for _, p := range paths {
		rel := strings.TrimPrefix(p, "/")
		if seen[rel] {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil {
			continue // diverted or removed by the admin: not installed
		}
		dst := filepath.Join(stage, rel)
		switch {
		case fi.IsDir() || isParent[p]:
			st, err := os.Stat(p)
			if err != nil || !st.IsDir() {
				continue
			}
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dst, st.Mode().Perm()); err != nil {
				t.Fatal(err)
			}
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, dst); err != nil {
				t.Fatal(err)
			}
		case fi.Mode().IsRegular():
			if err := recipeCopyFile(p, dst, fi); err != nil {
				t.Fatal(err)
			}
		default:
			continue
		}
		seen[rel] = true
		list = append(list, rel)
	}
	for rel, content := range extra {
		if seen[rel] {
			continue
		}
		for d := filepath.Dir(rel); d != "."; d = filepath.Dir(d) {
			if !seen[d] {
				t.Fatalf("extra file %s: parent %s not in package %s", rel, d, pkg)
			}
		}
		repotest.WriteFile(t, filepath.Join(stage, rel), content, 0o644)
		list = append(list, rel)
	}
	listFile := filepath.Join(dir, pkg+".list")
	if err := os.WriteFile(listFile, []byte(strings.Join(list, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	recipeRun(t, dir, "tar", "czf", name, "-C", stage, "--no-recursion", "-T", listFile)
}

func recipeCopyFile(src, dst string, fi os.FileInfo) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Chmod(dst, fi.Mode().Perm()|fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
		return err
	}
	return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
}

// recipeMount mounts src at mnt with `grove rofiles` and makes sure it is
// unmounted when the test ends, even on failure.
func recipeMount(t *testing.T, dir string, args ...string) {
	t.Helper()
	mnt := args[len(args)-1]
	recipeRun(t, dir, groveBin, append([]string{"rofiles"}, args...)...)
	abs := filepath.Join(dir, mnt)
	t.Cleanup(func() {
		if recipeMounted(abs) {
			_, _, _ = recipeRunErr(dir, "fusermount", "-u", "-z", mnt)
		}
	})
	if !recipeMounted(abs) {
		t.Fatalf("grove rofiles returned but %s is not mounted", abs)
	}
}

func recipeMounted(mnt string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == mnt {
			return true
		}
	}
	return false
}

// recipeFiles maps each path of a commit to the checksum and mode column
// that `ostree ls -R -C` prints for it (the reference's view of the tree).
func recipeFiles(t *testing.T, dir, repoPath, rev string) map[string]string {
	t.Helper()
	out := recipeRun(t, dir, "ostree", "--repo="+repoPath, "ls", "-R", "-C", rev)
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[0][0] == 'd' {
			continue
		}
		m[f[5]] = f[0] + " " + f[4]
	}
	return m
}

func recipeShow(t *testing.T, dir, repoPath, rev, key string) string {
	t.Helper()
	out := recipeRun(t, dir, "ostree", "--repo="+repoPath, "show", rev)
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("ostree show %s: no %s line in\n%s", rev, key, out)
	return ""
}

func recipeRev(t *testing.T, dir, repoPath, rev string) string {
	t.Helper()
	return strings.TrimSpace(recipeRun(t, dir, "ostree", "--repo="+repoPath, "rev-parse", rev))
}

func recipeObjectSum(t *testing.T, dir, repoPath, sum string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, repoPath, "objects", sum[:2], sum[2:]+".file"))
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func recipeNlink(t *testing.T, p string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		t.Fatal(err)
	}
	return uint64(st.Nlink)
}

// recipeCommitMatrix commits tree, a checkout hardlinked into the
// bare-user repository repoPath, with fixed timestamp and subject, and
// returns the checksum of grove's --link-checkout-speedup commit (no ref
// binding, so that commits on different branches compare) after
// checking that it is exactly what a full re-read gives: grove and ostree
// committing an unlinked copy of the tree (recipeUnlinkedCopy), and ostree
// with the speedup. Without the speedup a commit of the hardlinked tree
// itself differs (both tools then record the objects' user.ostreemeta as
// an xattr); grove must agree with ostree there too.
func recipeCommitMatrix(t *testing.T, dir, repoPath, tree string) string {
	t.Helper()
	cp := tree + "-copy"
	recipeUnlinkedCopy(t, filepath.Join(dir, tree), filepath.Join(dir, cp))
	commit := func(bin, branch, src string, extra ...string) string {
		t.Helper()
		args := append([]string{"--repo=" + repoPath, "commit", "-b", branch,
			"--timestamp=2024-01-01T00:00:00Z", "-s", "recipe", "--no-bindings"}, extra...)
		recipeRun(t, dir, bin, append(args, src)...)
		return recipeRev(t, dir, repoPath, branch)
	}
	want := commit(groveBin, "grove/speedup", tree, "--link-checkout-speedup")
	for _, c := range []struct {
		name, branch, bin, src string
		extra                  []string
	}{
		{"ostree --link-checkout-speedup", "ostree/speedup", "ostree", tree, []string{"--link-checkout-speedup"}},
		{"grove, unlinked copy", "grove/copy", groveBin, cp, nil},
		{"ostree, unlinked copy", "ostree/copy", "ostree", cp, nil},
	} {
		if got := commit(c.bin, c.branch, c.src, c.extra...); got != want {
			t.Errorf("commit of %s by %s: %s, grove --link-checkout-speedup gave %s", tree, c.name, got, want)
		}
	}
	if g, o := commit(groveBin, "grove/linked", tree), commit("ostree", "ostree/linked", tree); g != o {
		t.Errorf("plain commit of hardlinked %s: grove %s, ostree %s", tree, g, o)
	}
	recipeRun(t, dir, "ostree", "--repo="+repoPath, "fsck")
	return want
}

// recipeUnlinkedCopy copies src to dst with modes, ownership, times and
// xattrs, except that a file hardlinked into a bare-user repository loses
// the object's user.ostreemeta: it describes the object, not the file.
// Files that are not objects keep every xattr, user.ostreemeta included
// (a --copyup copy carries it, in ostree's rofiles-fuse too), so that the
// copy is what --link-checkout-speedup must see.
func recipeUnlinkedCopy(t *testing.T, src, dst string) {
	t.Helper()
	recipeRun(t, filepath.Dir(src), "cp", "-R", "--preserve=mode,ownership,timestamps,xattr", src, dst)
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || recipeNlink(t, p) < 2 {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if err := unix.Removexattr(filepath.Join(dst, rel), "user.ostreemeta"); err != nil && !errors.Is(err, unix.ENODATA) {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRecipeBuildSystemEndToEnd runs the build-system recipe verbatim with
// grove: component commits from tarballs, a union checkout, ldconfig as a
// trigger through the rofiles mount, a --link-checkout-speedup commit and
// pull-local into an archive repository. The reference ostree then finds
// both repositories sound, checks the result out identically to the build
// tree, and commits the same build tree to the same content checksum.
func TestRecipeBuildSystemEndToEnd(t *testing.T) {
	recipeNeed(t)
	dir := t.TempDir()
	recipeTarball(t, dir, "bash-bin.tar.gz", "bash", nil)
	recipeTarball(t, dir, "libc6-bin.tar.gz", "libc6", map[string]string{
		"etc/ld.so.conf": "include /etc/ld.so.conf.d/*.conf\n\n",
	})

	g := func(args ...string) string { t.Helper(); return recipeRun(t, dir, groveBin, args...) }
	g("--repo=repo", "init", "--mode=archive")
	g("--repo=build-repo", "init", "--mode=bare-user")
	g("--repo=build-repo", "commit", "-b", "exampleos/x86_64/bash", "--tree=tar=bash-bin.tar.gz")
	g("--repo=build-repo", "commit", "-b", "exampleos/x86_64/libc", "--tree=tar=libc6-bin.tar.gz")
	for _, pkg := range []string{"bash", "libc"} {
		g("--repo=build-repo", "checkout", "-U", "--union", "exampleos/x86_64/"+pkg, "exampleos-build")
	}
	build := filepath.Join(dir, "exampleos-build")
	for _, p := range []string{"bin/bash", "lib/x86_64-linux-gnu/libc.so.6", "etc/ld.so.conf"} {
		if n := recipeNlink(t, filepath.Join(build, p)); n < 2 {
			t.Fatalf("%s has %d link(s): the union checkout did not hardlink repository objects", p, n)
		}
	}

	if err := os.MkdirAll(filepath.Join(dir, "mnt"), 0o755); err != nil {
		t.Fatal(err)
	}
	recipeMount(t, dir, "exampleos-build", "mnt")
	mnt := filepath.Join(dir, "mnt")
	t.Run("rofiles protects hardlinked objects", func(t *testing.T) {
		bashrc := filepath.Join(mnt, "etc/bash.bashrc")
		if f, err := os.OpenFile(bashrc, os.O_WRONLY|os.O_APPEND, 0); !errors.Is(err, syscall.EROFS) {
			if err == nil {
				f.Close()
			}
			t.Errorf("open for writing %s: got %v, want EROFS", bashrc, err)
		}
		if err := os.Truncate(bashrc, 0); !errors.Is(err, syscall.EROFS) {
			t.Errorf("truncate %s: got %v, want EROFS", bashrc, err)
		}
		if err := os.Chmod(filepath.Join(mnt, "bin/bash"), 0o777); !errors.Is(err, syscall.EROFS) {
			t.Errorf("chmod bin/bash: got %v, want EROFS", err)
		}
		fresh := filepath.Join(mnt, "etc/recipe-new-file")
		if err := os.WriteFile(fresh, []byte("new\n"), 0o644); err != nil {
			t.Errorf("creating a new file through the mount: %v", err)
		} else if b, err := os.ReadFile(filepath.Join(build, "etc/recipe-new-file")); err != nil || string(b) != "new\n" {
			t.Errorf("new file not in the checkout: %q, %v", b, err)
		}
		_ = os.Remove(fresh)
	})
	if out, errOut, err := recipeRunErr(dir, "ldconfig", "-r", "mnt"); err != nil {
		t.Fatalf("ldconfig -r mnt: %v\n%s%s", err, out, errOut)
	}
	recipeRun(t, dir, "fusermount", "-u", "mnt")
	if recipeMounted(mnt) {
		t.Fatal("mnt still mounted after fusermount -u")
	}
	cache, err := os.Stat(filepath.Join(build, "etc/ld.so.cache"))
	if err != nil || cache.Size() == 0 {
		t.Fatalf("ldconfig left no etc/ld.so.cache in the build tree: %v", err)
	}
	// The objects behind the checkout are untouched by the trigger.
	for _, p := range []string{"bin/bash", "lib/x86_64-linux-gnu/libc.so.6"} {
		if n := recipeNlink(t, filepath.Join(build, p)); n < 2 {
			t.Errorf("%s lost its hardlink through the read-only mount", p)
		}
	}

	g("--repo=build-repo", "commit", "-b", "exampleos/x86_64/standard", "--link-checkout-speedup", "exampleos-build")
	g("--repo=repo", "pull-local", "build-repo", "exampleos/x86_64/standard")

	for _, r := range []string{"build-repo", "repo"} {
		recipeRun(t, dir, "ostree", "--repo="+r, "fsck")
	}
	std := "exampleos/x86_64/standard"
	if a, b := recipeRev(t, dir, "build-repo", std), recipeRev(t, dir, "repo", std); a != b {
		t.Fatalf("pull-local: archive repo has %s, build repo %s", b, a)
	}

	// Checkouts of the pulled commit, -U like the build tree, equal it
	// (trigger output included).
	recipeRun(t, dir, "ostree", "--repo=repo", "checkout", "-U", std, "co-ostree")
	g("--repo=repo", "checkout", "-U", std, "co-grove")
	repotest.SameTree(t, build, filepath.Join(dir, "co-ostree"))
	repotest.SameTree(t, build, filepath.Join(dir, "co-grove"))
	if _, err := os.Stat(filepath.Join(dir, "co-ostree/etc/ld.so.cache")); err != nil {
		t.Errorf("trigger output missing from the pulled commit: %v", err)
	}

	// The real ostree commits the same build tree to the same content.
	speedup := recipeCommitMatrix(t, dir, "build-repo", "exampleos-build")
	if got, want := recipeShow(t, dir, "build-repo", speedup, "ContentChecksum"), recipeShow(t, dir, "build-repo", std, "ContentChecksum"); got != want {
		t.Errorf("content of exampleos-build committed again: %s, the recipe's commit has %s", got, want)
	}
	recipeRun(t, dir, "ostree", "--repo=build-repo", "fsck")
}

// TestRecipeCopyupThenLinkCheckoutSpeedupIsCorrect edits a hardlinked
// checkout through `grove rofiles --copyup` (modify in place, replace by
// rename, add new): the repository's objects stay intact, and a
// --link-checkout-speedup commit gives the very commit that a full re-read
// gives (grove without the speedup, and the real ostree), with new
// checksums only for what changed.
func TestRecipeCopyupThenLinkCheckoutSpeedupIsCorrect(t *testing.T) {
	recipeNeed(t)
	dir := t.TempDir()
	recipeTarball(t, dir, "bash-bin.tar.gz", "bash", nil)
	g := func(args ...string) string { t.Helper(); return recipeRun(t, dir, groveBin, args...) }
	g("--repo=build-repo", "init", "--mode=bare-user")
	g("--repo=build-repo", "commit", "-b", "exampleos/x86_64/bash", "--tree=tar=bash-bin.tar.gz")
	g("--repo=build-repo", "checkout", "-U", "--union", "exampleos/x86_64/bash", "co")
	before := recipeFiles(t, dir, "build-repo", "exampleos/x86_64/bash")

	const (
		modified = "/etc/bash.bashrc"     // edited in place through --copyup
		replaced = "/etc/skel/.bashrc"    // replaced by rename
		added    = "/etc/recipe.d/new.sh" // new file in a new directory
	)
	modSum := strings.Fields(before[modified])[1]
	objBefore := recipeObjectSum(t, dir, "build-repo", modSum)

	if err := os.MkdirAll(filepath.Join(dir, "mnt"), 0o755); err != nil {
		t.Fatal(err)
	}
	recipeMount(t, dir, "--copyup", "co", "mnt")
	mnt := filepath.Join(dir, "mnt")
	f, err := os.OpenFile(filepath.Join(mnt, modified), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatalf("--copyup: opening hardlinked %s for writing: %v", modified, err)
	}
	if _, err := f.WriteString("# changed through rofiles --copyup\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(mnt, "etc/skel/.bashrc.tmp")
	repotest.WriteFile(t, tmp, "# replaced by rename\n", 0o644)
	if err := os.Rename(tmp, filepath.Join(mnt, replaced)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(mnt, filepath.Dir(added)), 0o755); err != nil {
		t.Fatal(err)
	}
	repotest.WriteFile(t, filepath.Join(mnt, added), "echo new\n", 0o755)
	recipeRun(t, dir, "fusermount", "-u", "mnt")

	co := filepath.Join(dir, "co")
	if b, err := os.ReadFile(filepath.Join(co, modified)); err != nil || !bytes.HasSuffix(b, []byte("# changed through rofiles --copyup\n")) {
		t.Fatalf("the checkout does not hold the change made through the mount: %v", err)
	}
	if n := recipeNlink(t, filepath.Join(co, modified)); n != 1 {
		t.Errorf("copied-up %s has %d links, want 1", modified, n)
	}
	if recipeObjectSum(t, dir, "build-repo", modSum) != objBefore {
		t.Fatalf("the repository object %s changed under --copyup", modSum)
	}
	recipeRun(t, dir, "ostree", "--repo=build-repo", "fsck")

	recipeCommitMatrix(t, dir, "build-repo", "co")
	recipeRun(t, dir, "ostree", "--repo=build-repo", "fsck")

	after := recipeFiles(t, dir, "build-repo", "grove/speedup")
	var changed []string
	for p, v := range after {
		if before[p] != v {
			changed = append(changed, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			changed = append(changed, p+" (gone)")
		}
	}
	sort.Strings(changed)
	want := []string{modified, added, replaced}
	sort.Strings(want)
	if strings.Join(changed, " ") != strings.Join(want, " ") {
		t.Errorf("files whose checksum changed: %v, want %v", changed, want)
	}
	if len(before) < 50 {
		t.Errorf("only %d files in the bash commit: the tarball is not the package", len(before))
	}
}
