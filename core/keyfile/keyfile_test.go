package keyfile

import (
	"errors"
	"strings"
	"testing"
)

func TestRoundTripAndEdit(t *testing.T) {
	in := "# top comment\n[core]\nrepo_version=1\nmode=archive-z2\n\n[remote \"origin\"]\nurl=http://example.com/repo\nbranches=a/b;c;\n"
	kf, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(kf.Bytes()); got != in {
		t.Fatalf("round trip changed the file:\n%s", got)
	}
	if got := kf.List(`remote "origin"`, "branches"); strings.Join(got, ",") != "a/b,c" {
		t.Errorf("List = %v", got)
	}
	kf.Set("core", "fsync", "false")
	kf.Set("core", "spaced", " lead")
	if v, _ := kf.Get("core", "spaced"); v != " lead" {
		t.Errorf("escaped value read back as %q", v)
	}
	if b, err := kf.Bool("core", "fsync", true); err != nil || b {
		t.Errorf("Bool = %v, %v", b, err)
	}
	if _, err := kf.Bool("core", "mode", false); !errors.Is(err, ErrValue) {
		t.Errorf("non-boolean accepted: %v", err)
	}
	if !strings.Contains(string(kf.Bytes()), "mode=archive-z2\nfsync=false\nspaced=\\slead\n\n[remote") {
		t.Errorf("new keys not placed before the blank line:\n%s", kf.Bytes())
	}
	for _, bad := range []string{"[core\nx=1\n", "x=1\n", "[core]\nnovalue\n"} {
		if _, err := Parse([]byte(bad)); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v", bad, err)
		}
	}
}

func TestCloneIsDeep(t *testing.T) {
	kf, err := Parse([]byte("[a]\nx=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := kf.Clone()
	c.Set("a", "x", "2")
	c.Set("b", "y", "3")
	if v, _ := kf.Get("a", "x"); v != "1" || len(kf.Groups()) != 1 {
		t.Errorf("clone shares state: x=%q groups %v", v, kf.Groups())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"[core]\nrepo_version=1\nmode=bare\n", "# c\n\n[remote \"o\"]\nurl=http://x\nbranches=a;b;\n", "[a]\nk=\\s v\\n\\t\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := Parse(data)
		if err != nil {
			return
		}
		again, err := Parse(kf.Bytes())
		if err != nil {
			t.Fatalf("re-parse of rendered file: %v", err)
		}
		if string(again.Bytes()) != string(kf.Bytes()) {
			t.Fatalf("render not stable")
		}
	})
}
