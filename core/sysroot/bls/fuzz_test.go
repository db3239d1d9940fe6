package bls

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseEntry: Parse never panics; what it accepts renders to bytes
// that parse back to the same entry (same rendering).
func FuzzParseEntry(f *testing.F) {
	f.Add([]byte("title TestOS 42 1.0.10 (ostree:0)\nversion 2\noptions root=LABEL=MOO ostree=/ostree/boot.0/testos/7bd0/0\nlinux /ostree/testos-7bd0/vmlinuz-3.6.0\ninitrd /ostree/testos-7bd0/initramfs-3.6.0.img\n"))
	f.Add([]byte("initrd a\ninitrd b\ninitrd c\nlinux\tk\n#x\n\n"))
	f.Add([]byte("a \nb\tc d\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Parse(data)
		if err != nil {
			return
		}
		out := e.Bytes()
		e2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if out2 := e2.Bytes(); !bytes.Equal(out, out2) {
			t.Fatalf("unstable rendering:\n%q\n%q", out, out2)
		}
		_, _ = e.OstreeArg()
	})
}

// FuzzKernelArgs: a command line parses and renders back to itself, and
// the editing operations never panic or lose unrelated arguments.
func FuzzKernelArgs(f *testing.F) {
	f.Add("root=LABEL=MOO quiet ostree=/ostree/boot.1/os/x/0", "console=tty0")
	f.Add("a  b=c =d", "a")
	f.Add("", "=")
	f.Fuzz(func(t *testing.T, cmdline, op string) {
		k := ParseKernelArgs(cmdline)
		if got := k.String(); got != cmdline {
			t.Fatalf("round trip %q → %q", cmdline, got)
		}
		n := len(k.Strv())
		c := k.Clone()
		c.Replace(op)
		if !c.Contains(op) {
			t.Fatalf("Replace(%q) lost it: %q", op, c.String())
		}
		c = k.Clone()
		c.Append(op)
		if len(c.Strv()) != n+1 {
			t.Fatalf("Append did not add one")
		}
		c = k.Clone()
		if err := c.Delete(op); err == nil && len(c.Strv()) != n-1 {
			t.Fatalf("Delete(%q) removed %d", op, n-len(c.Strv()))
		}
		_ = k.Clone().NewReplace(op)
		_ = strings.Count(cmdline, " ")
	})
}

// FuzzStrverscmp: antisymmetric and reflexive.
func FuzzStrverscmp(f *testing.F) {
	f.Add("1.10", "1.9")
	f.Add("009", "01")
	f.Fuzz(func(t *testing.T, a, b string) {
		if sign(Strverscmp(a, b)) != -sign(Strverscmp(b, a)) {
			t.Fatalf("not antisymmetric: %q %q", a, b)
		}
		if Strverscmp(a, a) != 0 {
			t.Fatalf("not reflexive: %q", a)
		}
	})
}
