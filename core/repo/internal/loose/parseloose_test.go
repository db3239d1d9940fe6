package loose

import (
	"testing"

	"github.com/groveos/grove/core/oid"
)

func TestParseLooseNames(t *testing.T) {
	const hex = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
	want := oid.MustParse(hex)
	for _, c := range []struct {
		sub, name string
		typ       oid.ObjectType
		ok        bool
	}{
		{hex[:2], hex[2:] + ".file", oid.File, true},
		{hex[:2], hex[2:] + ".filez", oid.File, true},
		{hex[:2], hex[2:] + ".dirtree", oid.DirTree, true},
		{hex[:2], hex[2:] + ".dirmeta", oid.DirMeta, true},
		{hex[:2], hex[2:] + ".commit", oid.Commit, true},
		{hex[:2], hex[2:] + ".commitmeta", oid.CommitMeta, true},
		{hex[:2], hex[2:] + ".tombstone-commit", oid.TombstoneCommit, true},
		{hex[:2], hex[2:] + ".bogus", 0, false},
		{hex[:2], hex[2:3] + "E" + hex[4:] + ".file", 0, false}, // uppercase
		{"6E", hex[2:] + ".file", 0, false},
		{hex[:2], hex[2:63] + ".file", 0, false}, // short
		{hex[:2], hex[2:] + "0.file", 0, false},  // long
		{hex[:2], hex[2:] + "-file", 0, false},
		{hex[:2], "tmp.XXXXXX", 0, false},
	} {
		sum, typ, ok := parseLooseName(c.sub, []byte(c.name))
		if ok != c.ok || (ok && (typ != c.typ || sum != want)) {
			t.Errorf("parseLooseName(%q, %q) = %s, %v, %v; want ok=%v type %v", c.sub, c.name, sum, typ, ok, c.ok, c.typ)
		}
	}
}
