package dpkgdb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/dpkgdb"
	"github.com/groveos/grove/core/dpkgdb/dpkgdbtest"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

func list(pkgs []dpkgdb.Package) []string {
	var out []string
	for _, p := range pkgs {
		out = append(out, p.Key()+" "+p.Version.String())
	}
	sort.Strings(out)
	return out
}

// TestParseHostDatabase reads this machine's own dpkg database and finds
// exactly the installed packages dpkg-query lists.
func TestParseHostDatabase(t *testing.T) {
	t.Parallel()
	f, err := os.Open("/var/lib/dpkg/status")
	if err != nil {
		t.Skip("no dpkg database here")
	}
	defer f.Close()
	pkgs, err := dpkgdb.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	want := dpkgdbtest.Installed(t, "/")
	sort.Strings(want)
	if got := list(pkgs); !slices.Equal(got, want) {
		t.Errorf("parsed %d packages, dpkg-query lists %d", len(got), len(want))
	}
	if len(pkgs) < 10 {
		t.Errorf("only %d packages", len(pkgs))
	}
}

func commitDir(t *testing.T, r *repo.Repo, dir string, i int) oid.Checksum {
	t.Helper()
	res, err := compose.Commit(context.Background(), r, compose.Spec{Branch: "os", Subject: fmt.Sprint("state ", i), Timestamp: time.Unix(1700000000+int64(i), 0), Trees: []compose.TreeSource{{Kind: "dir", Arg: dir}}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Commit
}

// TestDiffRealPackages installs tiny .debs with the real dpkg into a root,
// commits it, upgrades, downgrades, removes and adds packages (one of them
// Multi-Arch for two architectures), commits again, and checks the diff.
func TestDiffRealPackages(t *testing.T) {
	t.Parallel()
	dpkgdbtest.Need(t)
	ctx := context.Background()
	debs := t.TempDir()
	deb := func(name, version, arch string) string { return dpkgdbtest.Deb(t, debs, name, version, arch) }
	root := filepath.Join(t.TempDir(), "root")
	dpkgdbtest.Root(t, root)
	dpkgdbtest.Dpkg(t, root, "-i", deb("alpha", "1.0-1", "all"), deb("beta", "2:0.9", "all"), deb("delta", "2.0", "all"),
		deb("libmulti", "3.1", "amd64"), deb("libmulti", "3.1", "i386"), deb("same", "7", "all"))
	r := repotest.NewRepo(t, repo.ModeBareUser)
	a := commitDir(t, r, root, 0)
	dpkgdbtest.Dpkg(t, root, "-i", deb("alpha", "1.0-1+b1", "all"), deb("gamma", "1.0~rc1", "all"), deb("delta", "1.5", "all"),
		deb("libmulti", "3.2", "amd64"), deb("libmulti", "3.2", "i386"))
	dpkgdbtest.Dpkg(t, root, "-r", "beta")
	b := commitDir(t, r, root, 1)

	pa, err := dpkgdb.Load(ctx, r, a)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := list(pa), []string{"alpha:all 1.0-1", "beta:all 2:0.9", "delta:all 2.0", "libmulti:amd64 3.1", "libmulti:i386 3.1", "same:all 7"}; !slices.Equal(got, want) {
		t.Errorf("packages of the first commit: %v, want %v", got, want)
	}
	d, err := dpkgdb.DiffCommits(ctx, r, a, b)
	if err != nil {
		t.Fatal(err)
	}
	str := func(cs []dpkgdb.Change) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Label+" "+c.Old+" -> "+c.New)
		}
		return strings.Join(s, ", ")
	}
	for name, c := range map[string]struct{ got, want string }{
		"upgraded":   {str(d.Upgraded), "alpha 1.0-1 -> 1.0-1+b1, libmulti:amd64 3.1 -> 3.2, libmulti:i386 3.1 -> 3.2"},
		"downgraded": {str(d.Downgraded), "delta 2.0 -> 1.5"},
		"removed":    {str(d.Removed), "beta 2:0.9 -> "},
		"added":      {str(d.Added), "gamma  -> 1.0~rc1"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", name, c.got, c.want)
		}
	}
	// Swapped: the mirror image.
	d2, err := dpkgdb.DiffCommits(ctx, r, b, a)
	if err != nil {
		t.Fatal(err)
	}
	if str(d2.Downgraded) != "alpha 1.0-1+b1 -> 1.0-1, libmulti:amd64 3.2 -> 3.1, libmulti:i386 3.2 -> 3.1" || str(d2.Added) != "beta  -> 2:0.9" {
		t.Errorf("swapped: %+v", d2)
	}
	if d3, err := dpkgdb.DiffCommits(ctx, r, a, a); err != nil || !d3.Empty() {
		t.Errorf("a commit against itself: %+v %v", d3, err)
	}
}

// TestNoDatabase: a tree without a database is ErrNoDatabase; against one
// with packages it counts as none.
func TestNoDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeBareUser)
	empty := t.TempDir()
	repotest.WriteFile(t, filepath.Join(empty, "etc/os-release"), "ID=test\n", 0o644)
	a := commitDir(t, r, empty, 0)
	repotest.WriteFile(t, filepath.Join(empty, "var/lib/dpkg/status"), "Package: x\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\nPackage: y\nStatus: deinstall ok config-files\nVersion: 2\nArchitecture: all\n", 0o644)
	b := commitDir(t, r, empty, 1)
	if _, err := dpkgdb.Load(ctx, r, a); !errors.Is(err, dpkgdb.ErrNoDatabase) {
		t.Errorf("load: %v", err)
	}
	if _, err := dpkgdb.DiffCommits(ctx, r, a, a); !errors.Is(err, dpkgdb.ErrNoDatabase) {
		t.Errorf("neither side: %v", err)
	}
	d, err := dpkgdb.DiffCommits(ctx, r, a, b)
	if err != nil || len(d.Added) != 1 || d.Added[0].Name != "x" {
		t.Errorf("added from nothing: %+v %v", d, err)
	}
}

// TestParseRejects: malformed databases are ErrMalformed naming the
// entry; packages not installed are left out.
func TestParseRejects(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ data, want string }{
		"no colon":    {"Package: a\nStatus: install ok installed\nVersion: 1\nthis line is wrong\n", "entry 1"},
		"bad version": {"Package: a\nStatus: install ok installed\nVersion: 1:\n", "invalid version \"1:\""},
		"no version":  {"Package: a\nStatus: install ok installed\n", "invalid version \"\""},
		"no name":     {"Status: install ok installed\nVersion: 1\n", "no valid Package"},
		"twice":       {"Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n\nPackage: a\nStatus: install ok installed\nVersion: 2\nArchitecture: all\n", "listed twice"},
	} {
		_, err := dpkgdb.Parse(strings.NewReader(c.data))
		if !errors.Is(err, dpkgdb.ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	pkgs, err := dpkgdb.Parse(strings.NewReader("Package: gone\nStatus: purge ok not-installed\nVersion: 1\n\nPackage: half\nStatus: install ok half-configured\nVersion: 1\n"))
	if err != nil || len(pkgs) != 0 {
		t.Errorf("not installed: %v %v", pkgs, err)
	}
}

// FuzzParse: Parse never panics, and accepted packages have names and
// versions that print.
func FuzzParse(f *testing.F) {
	f.Add([]byte("Package: a\nStatus: install ok installed\nArchitecture: all\nVersion: 1:2.3-4~b\nDescription: x\n more\n .\n\n"))
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: 1\n\n\n\nPackage: b\nStatus: install ok installed\nVersion: 2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := dpkgdb.Parse(strings.NewReader(string(data)))
		if err != nil {
			if !errors.Is(err, dpkgdb.ErrMalformed) {
				t.Fatalf("error without ErrMalformed: %v", err)
			}
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version.String() == "" {
				t.Fatalf("accepted %+v", p)
			}
		}
		dpkgdb.Compare(pkgs, nil)
	})
}
