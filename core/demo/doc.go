// Package demo builds a deterministic example repository for `grove tui
// --demo`, the README's screenshots and the TUI tests: several branches and
// architectures, 200+ versioned commits with varied metadata, detached
// metadata, realistic trees (binaries, /etc configs changing over time,
// symlinks, large files, docs) and a union-composed branch.
package demo
