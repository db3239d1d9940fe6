package kernel

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sum(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }

func TestFindModulesLayout(t *testing.T) {
	dir := tree(t, map[string]string{
		"usr/lib/modules/5.1/vmlinuz": "k", "usr/lib/modules/5.1/initramfs": "i",
		"usr/lib/modules/5.1/dtb/b/x.dtb": "2", "usr/lib/modules/5.1/dtb/a.dtb": "1",
		"usr/lib/modules/5.1/.vmlinuz.hmac": "h",
	})
	l, err := Find(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	// kernel, initramfs, then dtb files by sorted name (a.dtb, b/x.dtb)
	if l.BootChecksum != sum("ki12") || l.InitramfsSrc != "initramfs" || l.InitramfsName != "initramfs-5.1.img" ||
		l.DevicetreeSrc != "dtb" || l.DevicetreeName != "" || l.HMACName != ".vmlinuz-5.1.hmac" {
		t.Fatalf("layout %+v", l)
	}
	if l, _ := Find(dir, true); l.BootChecksum != sum("ki") || l.DevicetreeSrc != "" {
		t.Fatalf("no-dtb layout %+v", l)
	}
	if l, err := Locate(dir, false); err != nil || l.BootChecksum != "" || l.InitramfsName != "initramfs-5.1.img" || l.DevicetreeSrc != "dtb" || l.HMACName != ".vmlinuz-5.1.hmac" {
		t.Fatalf("Locate %+v %v", l, err)
	}
}

func TestFindLegacyAndPriorities(t *testing.T) {
	c := sum("whatever")
	legacy := map[string]string{"usr/lib/ostree-boot/vmlinuz-4.0-" + c: "k", "usr/lib/ostree-boot/initramfs-4.0.img-" + c: "i"}
	l, err := Find(tree(t, legacy), false)
	if err != nil || l.BootChecksum != c || l.KernelName != "vmlinuz-4.0" || l.InitramfsName != "initramfs-4.0.img" {
		t.Fatalf("legacy %+v %v", l, err)
	}
	// modules layout without initramfs loses to a legacy one with it
	both := map[string]string{"usr/lib/modules/5.1/vmlinuz": "k"}
	for k, v := range legacy {
		both[k] = v
	}
	if l, _ := Find(tree(t, both), false); l.BootChecksum != c {
		t.Fatalf("priority: %+v", l)
	}
	both["usr/lib/modules/5.1/initramfs.img"] = "i"
	if l, _ := Find(tree(t, both), false); l.BootChecksum != sum("ki") {
		t.Fatalf("modules with initramfs must win: %+v", l)
	}
	bad := map[string]string{"boot/vmlinuz-4.0-" + c: "k", "boot/initramfs-4.0.img-" + sum("x"): "i"}
	if _, err := Find(tree(t, bad), false); !errors.Is(err, ErrInvalid) || err.Error() != "Mismatched kernel checksum vs initrd" {
		t.Fatalf("mismatch: %v", err)
	}
	if _, err := Find(tree(t, map[string]string{"usr/bin/sh": "x"}), false); !errors.Is(err, ErrNoKernel) {
		t.Fatalf("no kernel: %v", err)
	}
}

func TestShellUnquote(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:                 "plain",
		`"double \"q\" \$x \a"`: `double "q" $x \a`,
		`'single \n'`:           `single \n`,
		`a\ b\\c`:               `a b\c`,
		`"a"'b'c`:               "abc",
		"back\\\nslash":         "backslash",
		`'It'\''s'`:             "It's",
	} {
		got, err := ShellUnquote(in)
		if err != nil || got != want {
			t.Errorf("ShellUnquote(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`"open`, `'open`, `"x\"`} {
		if _, err := ShellUnquote(bad); err == nil {
			t.Errorf("ShellUnquote(%q) accepted", bad)
		}
	}
	vals := ParseOSRelease("#PRETTY_NAME=no\nID=a\nID=b\nPRETTY_NAME=\"x\nBROKEN='\nNAME = spaced\n")
	if vals["ID"] != "b" || vals["PRETTY_NAME"] != "" || strings.Contains(strings.Join(keys(vals), ","), "BROKEN") || vals["NAME "] != " spaced" {
		t.Fatalf("os-release %q", vals)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// FuzzShellUnquote: never panics; unquoting a single-quoted string that
// contains no quote gives it back; ParseOSRelease never panics.
func FuzzShellUnquote(f *testing.F) {
	f.Add(`"TestOS 42"`)
	f.Add(`'It'\''s' \"x\"`)
	f.Add("a\\\nb\"c\\")
	f.Fuzz(func(t *testing.T, s string) {
		ShellUnquote(s)
		ParseOSRelease(s)
		if !strings.Contains(s, "'") {
			if got, err := ShellUnquote("'" + s + "'"); err != nil || got != s {
				t.Fatalf("'%s' → %q, %v", s, got, err)
			}
		}
	})
}
