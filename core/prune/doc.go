// Package prune deletes unreachable objects like `ostree prune`: the
// reachable set comes from every commit in the repository (default) or from
// refs only, optionally cut at a history depth or a commit age; everything
// else among the loose commit, dirtree, dirmeta, content and payload-link
// objects is deleted (with the commitmeta of deleted commits, and a
// tombstone when core.tombstone-commits is set). Refs of every kind (local
// heads, remotes, mirrors, deployment refs under refs/heads/ostree/) are
// roots, so nothing a ref reaches is ever deleted.
package prune
