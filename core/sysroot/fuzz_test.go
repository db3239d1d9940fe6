package sysroot_test

import (
	"bytes"
	"testing"

	"github.com/groveos/grove/core/sysroot"
)

// FuzzParseOrigin: never panics; what it accepts renders to a key file
// that parses back to the same rendering (what libostree rewrites is
// stable).
func FuzzParseOrigin(f *testing.F) {
	f.Add([]byte("[origin]\nrefspec=testos:testos/buildmain/x86_64-runtime\n"))
	f.Add([]byte("[origin]\nrefspec=abc\n\n[libostree-transient]\npinned=true\n"))
	f.Add([]byte("# c\n[origin]\nrefspec = x\r\noverride-commit=0123\nunlocked=hotfix\n"))
	f.Add([]byte("[origin\nrefspec\n=x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := sysroot.ParseOrigin(data)
		if err != nil {
			return
		}
		out := kf.Bytes()
		kf2, err := sysroot.ParseOrigin(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if out2 := kf2.Bytes(); !bytes.Equal(out, out2) {
			t.Fatalf("unstable:\n%q\n%q", out, out2)
		}
		sysroot.RemoveTransientState(kf)
	})
}
