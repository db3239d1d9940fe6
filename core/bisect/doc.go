// Package bisect finds the commit that broke a tree, with git bisect's
// vocabulary and semantics adapted to OSTree's linear histories: the
// candidates are the parent chain from the bad commit back to the newest
// good one, each step tests the commit git would pick (the midpoint, a
// skipped one replaced by the nearest untested commit), and a bisect whose
// only untested commits are skipped ends with the set of commits that may
// be the first bad one.
//
// It owns the bisect state (terms, marks, the commit under test, the log
// in git's `bisect log` format with checksums for revisions, and the
// deployment bookkeeping of a sysroot bisect), its file format (JSON,
// version 1, parsed strictly: a file edited into nonsense is an error
// that leaves it as it was) and its one file, state/bisect/state.json
// inside the repository, written atomically under a lock. Run drives
// git's `bisect run` loop over a Tester the caller supplies, with git's
// exit-code contract.
//
// It reads commits through a small Loader (repo.Repo satisfies it) and
// does no other I/O: checking out candidates and running commands is
// core/trial's, deploying them core/sysroot's; it never prints.
package bisect
