package repo

import (
	"testing"

	"github.com/groveos/grove/core/oid"
)

func TestParseLooseNames(t *testing.T) {
	const hex = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
	want := oid.MustParse(hex)
	for _, c := range []struct {
		sub, name, ext string
		ok             bool
	}{
		{hex[:2], hex[2:] + ".file", "file", true},
		{hex[:2], hex[2:] + ".dirtree", "dirtree", true},
		{hex[:2], hex[2:] + ".dirmeta", "dirmeta", true},
		{hex[:2], hex[2:] + ".commit", "", false},
		{hex[:2], hex[2:] + ".filez", "", false},
		{hex[:2], hex[2:3] + "E" + hex[4:] + ".file", "", false}, // uppercase
		{"6E", hex[2:] + ".file", "", false},
		{hex[:2], hex[2:63] + ".file", "", false}, // short
		{hex[:2], hex[2:] + "0.file", "", false},  // long
		{hex[:2], hex[2:] + "-file", "", false},
		{hex[:2], "tmp.XXXXXX", "", false},
	} {
		sum, ext, ok := parseLoose(c.sub, []byte(c.name))
		if ok != c.ok || ext != c.ext || (ok && sum != want) {
			t.Errorf("parseLoose(%q, %q) = %s, %q, %v; want ok=%v ext=%q", c.sub, c.name, sum, ext, ok, c.ok, c.ext)
		}
	}
}
