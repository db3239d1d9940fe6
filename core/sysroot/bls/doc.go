// Package bls reads and writes what ostree keeps in a sysroot's /boot:
// Boot Loader Specification entries (boot/loader.N/entries/ostree-*.conf)
// as libostree 2022.7's OstreeBootconfigParser does, kernel command lines
// with the semantics of OstreeKernelArgs (ordered, multi-valued keys,
// replace/append/delete), and glibc's strverscmp, which orders entries by
// their "version" key.
//
// It is a leaf: the standard library only, no I/O beyond parsing and
// rendering bytes, no knowledge of deployments. Everything here is
// hand-written because no maintained Go library reproduces these exact
// GLib/glibc semantics; each parser has a fuzz target.
package bls
