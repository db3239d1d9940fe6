package gvariant

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

var (
	commitType  = MustParseType("(a{sv}aya(say)sstayay)")
	dirtreeType = MustParseType("(a(say)a(sayay))")
	dirmetaType = MustParseType("(uuua(ayay))")
	fileHdrType = MustParseType("(uuuusa(ayay))")
	archHdrType = MustParseType("(tuuuusa(ayay))")
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func be32(v uint32) uint32 { return v>>24 | v>>8&0xff00 | v<<8&0xff0000 | v<<24 }

func be64(v uint64) uint64 {
	return uint64(be32(uint32(v)))<<32 | uint64(be32(uint32(v>>32)))
}

// TestWorkedExample reproduces ostree-format.md §2.6.
func TestWorkedExample(t *testing.T) {
	fileSum := unhex("44f778e59f0a4748d6b0c90a47347212a231c4ad1e8f7ea5c5dffc7749153a6b")
	metaSum := unhex("446a0ef11b7cc167f3b603e585c7eeeeb675faa412d5ec73f62988eb0b6c5488")
	treeSum := unhex("b203b8cf6333823b9b7701086070db0785483ab6860d28dd3586df29af6879ef")

	hdr, err := Marshal(fileHdrType, Tuple{uint32(0), uint32(0), be32(0o100644), uint32(0), "", []any{}})
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex("000000000000000000000081a40000000000" + "0011")[:18]; !bytes.Equal(hdr, unhex("00000000000000000000"+"81a4"+"00000000"+"0011")) {
		t.Fatalf("file header % x, want % x", hdr, want)
	}
	stream := append([]byte{0, 0, 0, 0x12, 0, 0, 0, 0}, hdr...)
	stream = append(stream, "hello\n"...)
	if got := sum(stream); got != hex.EncodeToString(fileSum) {
		t.Errorf("file checksum %s", got)
	}

	dm, err := Marshal(dirmetaType, Tuple{uint32(0), uint32(0), be32(0o40755), []any{}})
	if err != nil || sum(dm) != hex.EncodeToString(metaSum) {
		t.Errorf("dirmeta % x %v", dm, err)
	}

	dt, err := Marshal(dirtreeType, Tuple{[]any{Tuple{"hello", fileSum}}, []any{}})
	if err != nil || len(dt) != 41 || sum(dt) != hex.EncodeToString(treeSum) {
		t.Errorf("dirtree % x %v", dt, err)
	}
	empty, _ := Marshal(dirtreeType, Tuple{[]any{}, []any{}})
	if sum(empty) != "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d" {
		t.Errorf("empty dirtree % x", empty)
	}

	for _, c := range []struct {
		meta []DictEntry
		size int
		want string
	}{
		{[]DictEntry{}, 94, "a60bbe6f49a32082954d55de774f2ebf88978697b8961fc640b9e708563f3c61"},
		{[]DictEntry{{"ostree.ref-binding", NewVariant("as", []string{"test"})}}, 126,
			"eef71e7b45bae4fcec708b6e008cb414b5c431dc7eeb892a7a59bf5b9efa31ef"},
	} {
		b, err := Marshal(commitType, Tuple{c.meta, []byte{}, []any{}, "subject", "", be64(1577836800), treeSum, metaSum})
		if err != nil || len(b) != c.size || sum(b) != c.want {
			t.Errorf("commit: %v len %d sum %s\n% x", err, len(b), sum(b), b)
			continue
		}
		v, err := Unmarshal(commitType, b)
		if err != nil {
			t.Fatal(err)
		}
		tu := v.(Tuple)
		if tu[3] != "subject" || tu[5] != be64(1577836800) || !bytes.Equal(tu[6].([]byte), treeSum) {
			t.Errorf("commit decode %#v", tu)
		}
		if len(c.meta) > 0 {
			rb, ok := Lookup(tu[0].([]DictEntry), "ostree.ref-binding")
			if !ok || Print(rb.(Variant).Type, rb.(Variant).Value, true) != "['test']" {
				t.Errorf("lookup %#v %v", rb, ok)
			}
		}
	}

	ah, err := Marshal(archHdrType, Tuple{be64(6), uint32(0), uint32(0), be32(0o100644), uint32(0), "", []any{}})
	if err != nil || !bytes.Equal(ah, unhex("0000000000000006"+"00000000000000000000"+"81a4"+"00000000"+"0019")) {
		t.Errorf("archive header % x %v", ah, err)
	}
}

func TestUnmarshalDoesNotAlias(t *testing.T) {
	data := []byte{1, 2, 3}
	v, err := Unmarshal(MustParseType("ay"), data)
	if err != nil {
		t.Fatal(err)
	}
	data[0] = 9
	if v.([]byte)[0] != 1 {
		t.Error("ay result aliases input")
	}
}

func TestMarshalErrors(t *testing.T) {
	for _, c := range []struct {
		sig string
		v   any
	}{
		{"u", int32(1)}, {"s", 5}, {"s", "a\x00b"}, {"s", "\xff"}, {"o", "bad"}, {"g", "m"},
		{"(ss)", Tuple{"a"}}, {"v", Variant{}}, {"a{sv}", []DictEntry{{"k", "notvariant"}}},
		{"ay", "str"}, {"as", []int{1}}, {"mi", 5}, {"y", 256}, {"u", -1}, {"aay", []string{"x"}},
	} {
		if _, err := Marshal(MustParseType(c.sig), c.v); err == nil {
			t.Errorf("Marshal(%s, %#v) succeeded", c.sig, c.v)
		}
	}
}

func TestParseType(t *testing.T) {
	for _, s := range []string{"y", "a{sv}", "(a{sv}aya(say)sstayay)", "()", "mmaai", "{yv}", "(uayttay)"} {
		ty, err := ParseType(s)
		if err != nil || ty.String() != s {
			t.Errorf("ParseType(%q) = %v, %v", s, ty, err)
		}
	}
	for _, s := range []string{"", "z", "a", "(", "(y", "{vs}", "{s}", "{sss}", "yy", "a{sv}x", "*", "r", "?", "m"} {
		if _, err := ParseType(s); err == nil {
			t.Errorf("ParseType(%q) succeeded", s)
		}
	}
	ty := MustParseType("(yqut)")
	if sz, ok := ty.FixedSize(); !ok || sz != 16 || ty.Alignment() != 8 || len(ty.Fields()) != 4 {
		t.Errorf("(yqut): %d %v %d", sz, ok, ty.Alignment())
	}
	if sz, ok := MustParseType("()").FixedSize(); !ok || sz != 1 {
		t.Errorf("(): %d", sz)
	}
	if sz, ok := MustParseType("(ty)").FixedSize(); !ok || sz != 16 {
		t.Errorf("(ty): %d", sz)
	}
	if _, ok := MustParseType("(ys)").FixedSize(); ok {
		t.Error("(ys) fixed")
	}
}
