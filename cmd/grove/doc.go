// Command grove is "git for operating system binaries": an OSTree-compatible
// repository tool with a terminal UI. Its command lines follow ostree's.
//
// This package is thin: one file per verb that parses ostree's flags, calls
// one core function (or opens the TUI) and prints ostree's output. A verb's
// logic lives in core/, so that the TUI runs the same code.
package main
