package dpkgdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/groveos/grove/core/inspect"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"pault.ag/go/debian/control"
	"pault.ag/go/debian/version"
)

// StatusPath is where dpkg keeps its database in a tree.
const StatusPath = "/var/lib/dpkg/status"

// Errors returned by this package.
var (
	// ErrNoDatabase: the commit's tree has no dpkg status database.
	ErrNoDatabase = errors.New("dpkgdb: no dpkg status database (" + StatusPath + ")")
	// ErrMalformed: the database does not parse.
	ErrMalformed = errors.New("dpkgdb: malformed dpkg status database")
)

// Package is one installed package.
type Package struct {
	Name    string
	Arch    string
	Version version.Version
}

// Key names p among packages: name:arch (Multi-Arch lets one name be
// installed for several architectures).
func (p Package) Key() string { return p.Name + ":" + p.Arch }

// Parse reads a dpkg status database and returns the packages whose
// status says installed, sorted by name then architecture. Entries
// without a name or with a version dpkg would refuse are ErrMalformed.
func Parse(r io.Reader) ([]Package, error) {
	pr, err := control.NewParagraphReader(r, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var out []Package
	seen := map[string]bool{}
	for n := 1; ; n++ {
		para, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", ErrMalformed, n, err)
		}
		status := strings.Fields(para.Values["Status"])
		if len(status) != 3 || status[2] != "installed" {
			continue
		}
		name := para.Values["Package"]
		if name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("%w: entry %d: no valid Package field", ErrMalformed, n)
		}
		v, err := version.Parse(para.Values["Version"])
		if err != nil || para.Values["Version"] == "" {
			return nil, fmt.Errorf("%w: package %s: invalid version %q", ErrMalformed, name, para.Values["Version"])
		}
		p := Package{Name: name, Arch: para.Values["Architecture"], Version: v}
		if seen[p.Key()] {
			return nil, fmt.Errorf("%w: package %s listed twice", ErrMalformed, p.Key())
		}
		seen[p.Key()] = true
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Arch < out[j].Arch
	})
	return out, nil
}

// Load reads the installed packages of commit's tree; ErrNoDatabase when
// it has none.
func Load(ctx context.Context, r *repo.Repo, commit oid.Checksum) ([]Package, error) {
	root, err := inspect.Root(ctx, r, commit)
	if err != nil {
		return nil, err
	}
	f, err := inspect.OpenPath(ctx, r, root, StatusPath)
	if errors.Is(err, inspect.ErrNotFound) {
		return nil, fmt.Errorf("%w in %s", ErrNoDatabase, commit)
	}
	if err != nil {
		return nil, fmt.Errorf("dpkgdb: %s: %w", commit, err)
	}
	defer f.Close()
	pkgs, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", commit, StatusPath, err)
	}
	return pkgs, nil
}

// Change is one package that differs.
type Change struct {
	Name, Arch string
	// Old is empty for an added package, New for a removed one.
	Old, New string
	// Label is what to call the package: its name, or name:arch when
	// the name is installed for more than one architecture.
	Label string
}

// Diff is what changed between two package sets.
type Diff struct {
	Upgraded, Downgraded, Removed, Added []Change
}

// Empty reports whether nothing changed.
func (d *Diff) Empty() bool {
	return len(d.Upgraded)+len(d.Downgraded)+len(d.Removed)+len(d.Added) == 0
}

// Compare pairs packages by name and architecture; a version that moved
// up is an upgrade, down a downgrade (dpkg's ordering; a version equal in
// dpkg's eyes but spelled differently, "1.0" and "1.00", is an upgrade,
// as rpm-ostree reports any change).
func Compare(old, new []Package) *Diff {
	archs := map[string]map[string]bool{}
	index := func(ps []Package) map[string]Package {
		m := make(map[string]Package, len(ps))
		for _, p := range ps {
			m[p.Key()] = p
			if archs[p.Name] == nil {
				archs[p.Name] = map[string]bool{}
			}
			archs[p.Name][p.Arch] = true
		}
		return m
	}
	a, b := index(old), index(new)
	label := func(p Package) string {
		if len(archs[p.Name]) > 1 {
			return p.Key()
		}
		return p.Name
	}
	d := &Diff{}
	for _, p := range old {
		q, ok := b[p.Key()]
		if !ok {
			d.Removed = append(d.Removed, Change{Name: p.Name, Arch: p.Arch, Old: p.Version.String(), Label: label(p)})
			continue
		}
		if p.Version.String() == q.Version.String() {
			continue
		}
		c := Change{Name: p.Name, Arch: p.Arch, Old: p.Version.String(), New: q.Version.String(), Label: label(p)}
		if version.Compare(q.Version, p.Version) < 0 {
			d.Downgraded = append(d.Downgraded, c)
		} else {
			d.Upgraded = append(d.Upgraded, c)
		}
	}
	for _, q := range new {
		if _, ok := a[q.Key()]; !ok {
			d.Added = append(d.Added, Change{Name: q.Name, Arch: q.Arch, New: q.Version.String(), Label: label(q)})
		}
	}
	return d
}

// DiffCommits compares the packages of two commits. A side without a
// database counts as no packages only when the other has one; neither
// having one is ErrNoDatabase.
func DiffCommits(ctx context.Context, r *repo.Repo, from, to oid.Checksum) (*Diff, error) {
	a, errA := Load(ctx, r, from)
	if errA != nil && !errors.Is(errA, ErrNoDatabase) {
		return nil, errA
	}
	b, errB := Load(ctx, r, to)
	if errB != nil && !errors.Is(errB, ErrNoDatabase) {
		return nil, errB
	}
	if errA != nil && errB != nil {
		return nil, fmt.Errorf("%w in either %s or %s", ErrNoDatabase, from, to)
	}
	return Compare(a, b), nil
}
