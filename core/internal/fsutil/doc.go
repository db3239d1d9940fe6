// Package fsutil holds the durable-write, directory-listing and
// extended-attribute helpers the engine shares: temp file → fsync →
// rename → fsync directory, raw getdents, *at xattr calls. It knows
// nothing of OSTree.
package fsutil
