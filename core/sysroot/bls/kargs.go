package bls

import (
	"fmt"
	"strings"
)

// arg is one kernel argument: "key" or "key=value".
type arg struct {
	key      string
	value    string
	hasValue bool
}

func splitArg(s string) arg {
	k, v, ok := strings.Cut(s, "=")
	return arg{key: k, value: v, hasValue: ok}
}

func (a arg) String() string {
	if a.hasValue {
		return a.key + "=" + a.value
	}
	return a.key
}

// KernelArgs is an ordered kernel command line where a key may appear
// several times, with the operations of libostree's OstreeKernelArgs.
type KernelArgs struct {
	args []arg
}

// ParseKernelArgs splits a command line on single spaces, as libostree
// does (so empty arguments between two spaces are kept and rendered back).
func ParseKernelArgs(options string) *KernelArgs {
	k := &KernelArgs{}
	k.ParseAppend(options)
	return k
}

// ParseAppend appends every space-separated argument of options.
func (k *KernelArgs) ParseAppend(options string) { k.AppendArgv(Split(options)) }

// Split is g_strsplit(s, " ", -1): every single space separates, and the
// empty string has no arguments at all.
func Split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// Clone returns a copy.
func (k *KernelArgs) Clone() *KernelArgs { return &KernelArgs{args: append([]arg(nil), k.args...)} }

// Append adds an argument at the end, even when its key exists.
func (k *KernelArgs) Append(s string) { k.args = append(k.args, splitArg(s)) }

// AppendArgv appends each argument.
func (k *KernelArgs) AppendArgv(argv []string) {
	for _, a := range argv {
		k.Append(a)
	}
}

// AppendProcCmdline appends a /proc/cmdline's arguments, dropping the
// ones boot loaders add (BOOT_IMAGE=, initrd=), as --karg-proc-cmdline does.
func (k *KernelArgs) AppendProcCmdline(cmdline string) {
	cmdline = strings.TrimRight(cmdline, " \t\n\r\f\v")
	for _, a := range Split(cmdline) {
		if strings.HasPrefix(a, "BOOT_IMAGE=") || strings.HasPrefix(a, "initrd=") {
			continue
		}
		k.Append(a)
	}
}

func (k *KernelArgs) indexes(key string) []int {
	var out []int
	for i, a := range k.args {
		if a.key == key {
			out = append(out, i)
		}
	}
	return out
}

// Contains reports whether the key of s ("key" or "key=value") is present.
func (k *KernelArgs) Contains(s string) bool { return len(k.indexes(splitArg(s).key)) > 0 }

// Replace sets key=value (or bare key), removing every other value of the
// key; the new argument takes the place of the key's first occurrence, or
// goes last when the key is new.
func (k *KernelArgs) Replace(s string) {
	a := splitArg(s)
	idx := k.indexes(a.key)
	if len(idx) == 0 {
		k.args = append(k.args, a)
		return
	}
	out := make([]arg, 0, len(k.args)-len(idx)+1)
	for i, old := range k.args {
		switch {
		case i == idx[0]:
			out = append(out, a)
		case old.key == a.key:
		default:
			out = append(out, old)
		}
	}
	k.args = out
}

// ReplaceArgv replaces each argument in turn (--karg).
func (k *KernelArgs) ReplaceArgv(argv []string) {
	for _, a := range argv {
		k.Replace(a)
	}
}

// AppendIfMissing appends s unless its key is present.
func (k *KernelArgs) AppendIfMissing(s string) {
	if !k.Contains(s) {
		k.Append(s)
	}
}

// Delete removes one argument with libostree's rules and messages: a key
// with a single value may be deleted by key alone; with several values the
// exact "key=value" (or bare "key") must be given.
func (k *KernelArgs) Delete(s string) error {
	a := splitArg(s)
	idx := k.indexes(a.key)
	if len(idx) == 0 {
		return fmt.Errorf("No key '%s' found", a.key)
	}
	if len(idx) == 1 {
		e := k.args[idx[0]]
		if a.hasValue && (!e.hasValue || e.value != a.value) {
			return fmt.Errorf("No karg '%s=%s' found", a.key, a.value)
		}
		k.remove(idx[0])
		return nil
	}
	for _, i := range idx {
		e := k.args[i]
		if e.hasValue == a.hasValue && (!a.hasValue || e.value == a.value) {
			k.remove(i)
			return nil
		}
	}
	if !a.hasValue {
		return fmt.Errorf("Multiple values for key '%s' found", s)
	}
	return fmt.Errorf("No karg '%s' found", s)
}

// DeleteIfPresent deletes s when its key is present.
func (k *KernelArgs) DeleteIfPresent(s string) error {
	if k.Contains(s) {
		return k.Delete(s)
	}
	return nil
}

// DeleteKey removes every value of a key.
func (k *KernelArgs) DeleteKey(key string) error {
	idx := k.indexes(key)
	if len(idx) == 0 {
		return fmt.Errorf("No key '%s' found", key)
	}
	for j := len(idx) - 1; j >= 0; j-- {
		k.remove(idx[j])
	}
	return nil
}

// NewReplace edits a value in place: "key=new" when the key has one
// value, "key=old=new" to pick one of several.
func (k *KernelArgs) NewReplace(s string) error {
	a := splitArg(s)
	idx := k.indexes(a.key)
	if len(idx) == 0 {
		return fmt.Errorf("No key '%s' found", a.key)
	}
	if a.hasValue && strings.Contains(a.value, "=") {
		old, nv, _ := strings.Cut(a.value, "=")
		for _, i := range idx {
			if e := k.args[i]; e.hasValue && e.value == old {
				k.args[i].value, k.args[i].hasValue = nv, true
				return nil
			}
		}
		return fmt.Errorf("No karg '%s=%s' found", a.key, old)
	}
	if len(idx) > 1 {
		return fmt.Errorf("Multiple values for key '%s' found", a.key)
	}
	k.args[idx[0]].value, k.args[idx[0]].hasValue = a.value, a.hasValue
	return nil
}

func (k *KernelArgs) remove(i int) { k.args = append(k.args[:i], k.args[i+1:]...) }

// LastValue returns the value of the key's last occurrence.
func (k *KernelArgs) LastValue(key string) (string, bool) {
	idx := k.indexes(key)
	if len(idx) == 0 {
		return "", false
	}
	a := k.args[idx[len(idx)-1]]
	return a.value, a.hasValue
}

// Strv lists the arguments in order.
func (k *KernelArgs) Strv() []string {
	out := make([]string, len(k.args))
	for i, a := range k.args {
		out[i] = a.String()
	}
	return out
}

// String joins the arguments with single spaces.
func (k *KernelArgs) String() string { return strings.Join(k.Strv(), " ") }
