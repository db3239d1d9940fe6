package oid

import (
	"errors"
	"testing"
)

func TestParseRoundTrip(t *testing.T) {
	const s = "eef71e7b45bae4fcec708b6e008cb414b5c431dc7eeb892a7a59bf5b9efa31ef"
	c, err := Parse(s)
	if err != nil || c.String() != s || c.Short() != "eef71e7b45" {
		t.Fatalf("Parse(%s) = %v, %v", s, c, err)
	}
	for _, bad := range []string{"", "EEF71E7B45BAE4FCEC708B6E008CB414B5C431DC7EEB892A7A59BF5B9EFA31EF", s[:63], s + "0", "g" + s[1:]} {
		if _, err := Parse(bad); !errors.Is(err, ErrChecksum) {
			t.Errorf("Parse(%q) err = %v, want ErrChecksum", bad, err)
		}
	}
}

// Names verified against ostree 2022.7 delta directories (ostree-format.md §7.1).
func TestModifiedBase64(t *testing.T) {
	c := MustParse("03c8ae9f24fe4bd6a5b23cf2fb0ac9c4ba4d7e59d7d12a5d8ce7b1c58fa15c97")
	b := c.ModifiedBase64()
	if len(b) != 43 {
		t.Fatalf("len = %d", len(b))
	}
	back, err := ParseModifiedBase64(b)
	if err != nil || back != c {
		t.Fatalf("round trip: %v %v", back, err)
	}
	var slash Checksum
	slash[0] = 0xff
	slash[1] = 0xff
	if got := slash.ModifiedBase64(); got[:2] != "__" {
		t.Errorf("'/' not replaced: %s", got)
	}
}

func TestObjectTypes(t *testing.T) {
	for typ := File; typ <= FileXattrsLink; typ++ {
		back, err := ParseObjectType(typ.String())
		if err != nil || back != typ {
			t.Errorf("%d: %v %v", typ, back, err)
		}
	}
	if !DirTree.IsMeta() || !CommitMeta.IsMeta() || File.IsMeta() || PayloadLink.IsMeta() {
		t.Error("IsMeta wrong")
	}
	n, err := ParseObjectName("eef71e7b45bae4fcec708b6e008cb414b5c431dc7eeb892a7a59bf5b9efa31ef.commit")
	if err != nil || n.Type != Commit {
		t.Fatal(n, err)
	}
}

func TestRefNames(t *testing.T) {
	good := []string{"main", "exampleos/x86_64/standard", "a.b-c_d", "ostree/0/1/0", "x/y.z"}
	bad := []string{"", "/main", "main/", "a//b", ".hidden", "-x", "a b", "a/../b", "a:b", "ü/x"}
	for _, r := range good {
		if err := ValidateRef(r); err != nil {
			t.Errorf("ValidateRef(%q) = %v", r, err)
		}
	}
	for _, r := range bad {
		if err := ValidateRef(r); !errors.Is(err, ErrRef) {
			t.Errorf("ValidateRef(%q) = %v, want ErrRef", r, err)
		}
	}
	rem, ref, err := ParseRefspec("origin:os/x86_64")
	if err != nil || rem != "origin" || ref != "os/x86_64" {
		t.Errorf("ParseRefspec = %q %q %v", rem, ref, err)
	}
	if _, _, err := ParseRefspec("bad/remote:x"); err == nil {
		t.Error("remote with slash accepted")
	}
}
