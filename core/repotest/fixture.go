package repotest

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"golang.org/x/sys/unix"
)

// TestdataDir is the repository's top-level testdata/ directory.
func TestdataDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("repotest: cannot locate its own source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata")
}

// Fixture is a repository written by the real ostree
// (testdata/ostree/make-repos.sh), extracted into a temporary directory.
type Fixture struct {
	Path string
	// Commits maps main, main^ and other/branch to their commits.
	Commits map[string]oid.Checksum
}

// OstreeFixture extracts the shared fixture repository of mode m (see
// testdata/ostree/make-repos.sh: main with two commits, other/branch, a
// remote ref and an alias) into t.TempDir(), with its xattrs, owners,
// modes and mtimes.
func OstreeFixture(t testing.TB, m repo.Mode) Fixture {
	t.Helper()
	return OstreeFixtureAt(t, m, t.TempDir())
}

// OstreeFixtureAt is OstreeFixture into dst (for fixtures shared by
// several tests), as dst/MODE.
func OstreeFixtureAt(t testing.TB, m repo.Mode, dst string) Fixture {
	t.Helper()
	name := m.String()
	if m == repo.ModeArchive {
		name = "archive"
	}
	dir := filepath.Join(TestdataDir(t), "ostree")
	if err := untar(filepath.Join(dir, name+".tar.gz"), dst); err != nil {
		t.Fatalf("repotest: extracting the %s fixture: %v", name, err)
	}
	f := Fixture{Path: filepath.Join(dst, name), Commits: map[string]oid.Checksum{}}
	data, err := os.ReadFile(filepath.Join(dir, "commits.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 3 && fs[0] == name {
			f.Commits[fs[1]] = oid.MustParse(fs[2])
		}
	}
	if len(f.Commits) != 3 {
		t.Fatalf("repotest: commits.txt lists %d commits for %s", len(f.Commits), name)
	}
	return f
}

// untar extracts a .tar.gz made by make-repos.sh: regular files,
// directories, symlinks and hardlinks, with numeric owners, modes, mtimes
// and user xattrs.
func untar(archive, dst string) error {
	in, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	type dirTimes struct {
		path string
		mt   time.Time
	}
	var dirs []dirTimes
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dst, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o700); err != nil {
				return err
			}
			dirs = append(dirs, dirTimes{p, h.ModTime})
		case tar.TypeReg:
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, p); err != nil {
				return err
			}
		case tar.TypeLink:
			if err := os.Link(filepath.Join(dst, filepath.Clean("/"+h.Linkname)), p); err != nil {
				return err
			}
			continue
		default:
			continue
		}
		if os.Geteuid() == 0 {
			if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
				return err
			}
		}
		for k, v := range h.PAXRecords {
			if x, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
				if err := unix.Lsetxattr(p, x, []byte(v), 0); err != nil {
					return err
				}
			}
		}
		if h.Typeflag != tar.TypeSymlink {
			if err := os.Chmod(p, os.FileMode(h.Mode&0o777)|modeBits(h.Mode)); err != nil {
				return err
			}
		}
		ts := []unix.Timespec{unix.NsecToTimespec(h.ModTime.UnixNano()), unix.NsecToTimespec(h.ModTime.UnixNano())}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	// Directory times last: extracting into them changed them.
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chtimes(dirs[i].path, dirs[i].mt, dirs[i].mt); err != nil {
			return err
		}
	}
	return nil
}

func modeBits(m int64) os.FileMode {
	var b os.FileMode
	if m&0o4000 != 0 {
		b |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		b |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		b |= os.ModeSticky
	}
	return b
}
