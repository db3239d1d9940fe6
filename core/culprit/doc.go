// Package culprit says what changed at the commit a bisect found: the
// first bad commit, its difference against the last good one (files
// added, removed and modified with their sizes, through core/diff), and,
// when the trees carry a dpkg status database, the packages whose
// versions changed (core/dpkgdb). The CLI prints a Report; the TUI shows
// one.
//
// It reads the repository and never prints.
package culprit
