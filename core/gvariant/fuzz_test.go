package gvariant

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzUnmarshal checks that Unmarshal never panics and that whatever it
// accepts is canonical: Marshal(Unmarshal(data)) == data. Accepted values
// must also survive Print → ParseText.
func FuzzUnmarshal(f *testing.F) {
	f.Add("(a{sv}aya(say)sstayay)", []byte{})
	f.Add("(a(say)a(sayay))", []byte{0})
	f.Add("a{sv}", []byte("k\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00i\x02\x0e"))
	f.Fuzz(func(t *testing.T, sig string, data []byte) {
		typ, err := ParseType(sig)
		if err != nil {
			return
		}
		v, err := Unmarshal(typ, data)
		normal := IsNormal(typ, data)
		if (err == nil) != normal {
			t.Fatalf("Unmarshal err=%v but IsNormal=%v", err, normal)
		}
		if err != nil {
			return
		}
		out, err := Marshal(typ, v)
		if err != nil {
			t.Fatalf("Marshal of unmarshalled value: %v", err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("not canonical:\n in  %x\n out %x", data, out)
		}
		text := Print(typ, v, true)
		_ = Print(typ, v, false)
		pv, err := ParseText(text, typ)
		if err != nil {
			t.Fatalf("ParseText(%q): %v", text, err)
		}
		out2, err := Marshal(typ, pv.Value)
		if err != nil {
			t.Fatalf("Marshal(ParseText(%q)): %v", text, err)
		}
		// NaN payloads cannot survive the text format (nor in GLib).
		if !bytes.Equal(out2, data) && !strings.Contains(text, "nan") {
			t.Fatalf("Print/ParseText round trip of %q: %x %v", text, out2, err)
		}
	})
}

// FuzzParseText checks that ParseText never panics and that what it
// returns can be marshalled and printed.
func FuzzParseText(f *testing.F) {
	for _, s := range []string{
		"42", "'x'", "{'k': <1>}", "[1, 2.5]", "@as []", "just nothing", "(1,)", "b'a\\001'",
		"<<int64 5>>", "[just 1, nothing]", "{1, 'x'}", "uint64 5", "'\\u00e9'",
	} {
		f.Add(s, "")
		f.Add(s, "mv")
	}
	f.Fuzz(func(t *testing.T, s, hint string) {
		var ht *Type
		if hint != "" {
			var err error
			if ht, err = ParseType(hint); err != nil {
				return
			}
		}
		v, err := ParseText(s, ht)
		if err != nil {
			return
		}
		b, err := Marshal(v.Type, v.Value)
		if err != nil {
			t.Fatalf("ParseText(%q) gave unmarshallable %#v: %v", s, v, err)
		}
		if !IsNormal(v.Type, b) {
			t.Fatalf("Marshal output not normal: %x", b)
		}
		_ = Print(v.Type, v.Value, true)
	})
}
