package sysroot

import "fmt"

// kindError carries libostree's wording as its message while matching a
// package sentinel with errors.Is.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// errf formats an error (with %w as usual) that also matches kind.
func errf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}
