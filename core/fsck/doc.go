// Package fsck verifies a repository like `ostree fsck`: every ref's commit
// exists, every object reachable from every complete commit exists, and
// every such object hashes to its name and decodes (metadata in GVariant
// normal form, content re-hashed from header and payload in every mode).
// Problems are typed (*CorruptError, *MissingError) and name the object
// and the commits that reference it.
//
// Run finds and checks the objects in one pass on every core
// (traverse.Parallel): each object is read once, through repo's
// BulkReader fast paths that only ever prove an object sound; anything
// else goes through Object, the general check, whose verdicts and
// messages are the ones reported. Problems are sorted by object name, so
// reports do not depend on the number of workers. It never prints.
package fsck
