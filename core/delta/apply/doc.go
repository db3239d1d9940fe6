// Package apply applies static deltas to a repository, in any mode
// (archive included, where ostree 2.2022.7 aborts on patched objects).
//
// A delta comes from a Source, which only hands out the superblock and
// part bytes, so the same code applies a delta directory (apply-offline),
// one fetched over HTTP (pull) and an inline one. Open reads and checks
// the superblock (expected digest, signature policy); Execute writes the
// TO commit marked partial, then runs the parts in parallel (bounded by
// GOMAXPROCS and a memory budget): each part's SHA-256 is checked before
// decompression, its opcodes are checked by delta.Parse before anything is
// written, and every object produced is re-hashed by the transaction.
// Offline is the apply-offline verb: one transaction, no ref written, the
// partial mark cleared only once everything TO reaches is present.
//
// The package never prints and does no network I/O of its own.
package apply
