package bls

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestStrverscmpMatchesGlibc compares with sign(strverscmp) computed by the
// host's glibc (testdata/gen_strverscmp.py).
func TestStrverscmpMatchesGlibc(t *testing.T) {
	data, err := os.ReadFile("testdata/strverscmp.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][3]any
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 1000 {
		t.Fatalf("only %d vectors", len(cases))
	}
	for _, c := range cases {
		a, b, want := c[0].(string), c[1].(string), int(c[2].(float64))
		got := Strverscmp(a, b)
		if sign(got) != want {
			t.Errorf("Strverscmp(%q, %q) = %d, glibc says %d", a, b, got, want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// An entry as ostree admin deploy writes it survives Parse → Bytes.
func TestEntryRoundTripOstreeEntry(t *testing.T) {
	in := "title TestOS 42 1.0.10 (ostree:0)\n" +
		"version 2\n" +
		"options root=LABEL=MOO quiet ostree=/ostree/boot.0/testos/7bd0/0\n" +
		"linux /ostree/testos-7bd0/vmlinuz-3.6.0\n" +
		"initrd /ostree/testos-7bd0/initramfs-3.6.0.img\n" +
		"initrd /ostree/initramfs-overlays/aa.img\n"
	e, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(e.Bytes()); got != in {
		t.Fatalf("round trip:\n%s\nwant\n%s", got, in)
	}
	if v, ok := e.OstreeArg(); !ok || v != "/ostree/boot.0/testos/7bd0/0" {
		t.Fatalf("OstreeArg = %q %v", v, ok)
	}
	if got := e.OverlayInitrds(); !slices.Equal(got, []string{"/ostree/initramfs-overlays/aa.img"}) {
		t.Fatalf("overlays %q", got)
	}
}

// Keys are written in libostree's fixed order whatever the input order;
// unknown keys follow in first-seen order; tabs separate too; lines not
// starting with a letter are ignored; the last duplicate wins.
func TestEntryOrderAndParsingRules(t *testing.T) {
	in := "# comment\n" +
		"linux /k\n" +
		"machine-id abc\n" +
		"title\tMy OS\n" +
		" options indented is ignored\n" +
		"options a b  c\n" +
		"version 1\n" +
		"version 3\n" +
		"noseparator\n" +
		"fdtdir /dtb\r\n"
	e, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := "title My OS\nversion 3\noptions a b  c\nlinux /k\nmachine-id abc\nfdtdir /dtb\r\n"
	if got := string(e.Bytes()); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if _, err := Parse([]byte("title \xff\n")); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}
}

// Overlay initrds are dropped when there is no primary initrd to follow.
func TestEntryOverlayNeedsInitrd(t *testing.T) {
	e := NewEntry()
	e.Set("linux", "/k")
	e.SetOverlayInitrds([]string{"/o.img"})
	if got := string(e.Bytes()); got != "linux /k\n" {
		t.Fatalf("got %q", got)
	}
}

func TestCompareVersions(t *testing.T) {
	mk := func(v string) *Entry {
		e := NewEntry()
		if v != "" {
			e.Set("version", v)
		}
		return e
	}
	if CompareVersions(mk("10"), mk("9")) >= 0 {
		t.Fatal("10 must sort before 9 (highest first)")
	}
	if CompareVersions(mk("1"), mk("")) >= 0 || CompareVersions(mk(""), mk("1")) <= 0 {
		t.Fatal("an entry without version sorts last")
	}
}

func has(k *KernelArgs, s string) bool { return slices.Contains(k.Strv(), s) }

// The cases of ostree's tests/test-kargs.c (test_kargs_delete).
func TestKernelArgsDelete(t *testing.T) {
	k := &KernelArgs{}
	for _, a := range []string{"single_key=test", "test=firstval", "test=secondval", "test=", "test"} {
		k.Append(a)
	}
	mustFail := func(s string) {
		t.Helper()
		if err := k.Delete(s); err == nil {
			t.Fatalf("Delete(%q) succeeded", s)
		}
	}
	mustOK := func(s string) {
		t.Helper()
		if err := k.Delete(s); err != nil {
			t.Fatalf("Delete(%q): %v", s, err)
		}
	}
	mustFail("non_existant_key")
	mustOK("test")
	if has(k, "test") {
		t.Fatal("bare test still present")
	}
	if err := k.Delete("test"); err == nil || err.Error() != "Multiple values for key 'test' found" {
		t.Fatalf("err = %v", err)
	}
	mustFail("test=non_existant_value")
	if err := k.Delete("single_key=non_existent_value"); err == nil || err.Error() != "No karg 'single_key=non_existent_value' found" {
		t.Fatalf("err = %v", err)
	}
	mustOK("single_key")
	if has(k, "single_key=test") {
		t.Fatal("single_key still present")
	}
	mustOK("test=secondval")
	mustOK("test=")
	mustOK("test=firstval")
	if len(k.Strv()) != 0 {
		t.Fatalf("left %q", k.Strv())
	}
	k.Append("test=foo")
	k.Append("test=foo")
	mustOK("test=foo")
	if !has(k, "test=foo") {
		t.Fatal("both duplicates deleted")
	}
	mustOK("test=foo")
	k.Append("nosmt")
	k.Append("nosmt")
	mustOK("nosmt")
	if !has(k, "nosmt") {
		t.Fatal("both nosmt deleted")
	}
	mustOK("nosmt")
	if k.String() != "" {
		t.Fatalf("left %q", k.String())
	}
}

// test_kargs_new_replace of ostree's tests/test-kargs.c.
func TestKernelArgsNewReplace(t *testing.T) {
	k := ParseKernelArgs("single_key test=firstval test=secondval")
	for _, bad := range []string{"nonexistantkey", "single_key=nonexistantval=newval", "test=newval"} {
		if err := k.NewReplace(bad); err == nil {
			t.Fatalf("NewReplace(%q) succeeded", bad)
		}
	}
	if err := k.NewReplace("single_key=newvalue"); err != nil {
		t.Fatal(err)
	}
	if err := k.NewReplace("test=firstval=newval"); err != nil {
		t.Fatal(err)
	}
	if got := k.String(); got != "single_key=newvalue test=newval test=secondval" {
		t.Fatalf("got %q", got)
	}
}

// Replace puts the new value where the key first was and drops the rest;
// a new key goes last; append keeps duplicates; the string is the input
// joined back with single spaces (empty arguments included).
func TestKernelArgsReplaceAppendRoundTrip(t *testing.T) {
	k := ParseKernelArgs("root=LABEL=MOO console=tty0 quiet console=ttyS0 ostree=/ostree/boot.1/os/x/0")
	k.Replace("console=hvc0")
	k.Replace("ostree=/ostree/boot.0/os/y/1")
	k.Replace("new=1")
	k.Append("new=2")
	want := "root=LABEL=MOO console=hvc0 quiet ostree=/ostree/boot.0/os/y/1 new=1 new=2"
	if got := k.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if v, ok := k.LastValue("new"); !ok || v != "2" {
		t.Fatalf("LastValue = %q %v", v, ok)
	}
	k.Replace("ostree")
	if !has(k, "ostree") || has(k, "ostree=/ostree/boot.0/os/y/1") {
		t.Fatalf("bare replace: %q", k.String())
	}
	for _, s := range []string{"", "a  b", " lead", "trail ", "x=1=2 =v"} {
		if got := ParseKernelArgs(s).String(); got != s {
			t.Fatalf("round trip %q → %q", s, got)
		}
	}
	k = ParseKernelArgs("a")
	k.AppendIfMissing("a=2")
	k.AppendIfMissing("b=3")
	if k.String() != "a b=3" {
		t.Fatalf("AppendIfMissing: %q", k.String())
	}
	k = &KernelArgs{}
	k.AppendProcCmdline("BOOT_IMAGE=(hd0)/vmlinuz root=/dev/vda1 initrd=/x quiet\n")
	if k.String() != "root=/dev/vda1 quiet" {
		t.Fatalf("proc cmdline: %q", k.String())
	}
}
