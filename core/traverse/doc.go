// Package traverse walks the object graph of commits: commit → dirtree and
// dirmeta, recursively, down to content objects, and optionally along
// parent commits. It follows libostree's traversal rules: a missing commit
// ends a history walk silently (repositories are often shallow), a missing
// dirtree is an error unless the commit is marked partial.
//
// Walk visits in order; Reachable and ReachableSet compute what commits
// reach (prune, fsck, diff --stats); Parallel visits every object once on
// many goroutines with a per-worker visitor (fsck's one-pass check, pull).
// It reads through a small Loader interface and never writes.
package traverse
