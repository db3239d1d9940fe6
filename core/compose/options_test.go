package compose

import (
	"fmt"
	"testing"

	"github.com/groveos/grove/core/gvariant"
)

func TestParseStatOverrideDecimalAndOverride(t *testing.T) {
	add, set, err := ParseStatOverride("+2048 /usr/bin/su\n\n1024 /a b\n=448 /etc/x\n+junk /j\n")
	if err != nil {
		t.Fatal(err)
	}
	if add["/usr/bin/su"] != 0o4000 || add["/a b"] != 0o2000 || add["/j"] != 0 || set["/etc/x"] != 0o700 {
		t.Errorf("add %v set %v", add, set)
	}
	if _, _, err := ParseStatOverride("nospace\n"); err == nil {
		t.Error("line without a space accepted")
	}
}

func TestParseKeyValuesKeepsOrderAndDuplicates(t *testing.T) {
	got, err := ParseKeyValues([]string{"b=1", "a=x=y", "b=2"}, false)
	if err != nil || fmt.Sprint(got) != fmt.Sprint([]gvariant.DictEntry{
		{Key: "b", Value: gvariant.NewVariant("s", "1")},
		{Key: "a", Value: gvariant.NewVariant("s", "x=y")},
		{Key: "b", Value: gvariant.NewVariant("s", "2")},
	}) {
		t.Errorf("got %v, %v", got, err)
	}
	if v, _ := lookupDictLast(got, "b"); v.Value != "2" {
		t.Errorf("lookupDictLast takes the last duplicate, got %v", v)
	}
	if _, err := ParseKeyValues([]string{"novalue"}, false); err == nil {
		t.Error("missing '=' accepted")
	}
	if _, err := ParseKeyValues([]string{"k=[1,"}, true); err == nil {
		t.Error("bad GVariant text accepted")
	}
}
