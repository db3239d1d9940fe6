// Package bsdiff writes and applies binary patches in the flavour OSTree's
// static deltas carry (ostree-format.md §7.4): Colin Percival's bsdiff
// algorithm in Matthew Endsley's stream form, with no "BSDIFF40" or
// "ENDSLEY/BSDIFF43" header, no bzip2 and no length prefix. A patch is a
// sequence of records
//
//	ctrl[0] ctrl[1] ctrl[2]    three 8-byte sign-magnitude little-endian
//	                           integers (bit 7 of byte 7 is the sign)
//	diff  [ctrl[0]]byte        added bytewise, mod 256, to the old data at
//	                           the current old position (old bytes outside
//	                           the old file count as 0)
//	extra [ctrl[1]]byte        copied as they are
//
// after which the old position moves by ctrl[2]; records follow until the
// new size, which the patch does not record (the caller knows it), is
// reached. Trailing bytes are ignored, as ostree's bspatch ignores them.
//
// It is written by hand because no well-kept Go module writes this
// flavour (the Go bsdiff ports write BSDIFF40 with bzip2). Diff sorts
// suffixes with SA-IS, through the standard library's index/suffixarray,
// rather than the textbook qsufsort; Patch streams its output and reads
// the old data through an io.ReaderAt, so memory does not grow with the
// size a patch claims. Patch is fuzzed (fuzz_test.go): arbitrary patches
// never panic, never write past the new size and never allocate by a
// claim.
//
// The package knows nothing of OSTree objects; it must not do I/O beyond
// the reader and writer it is handed.
package bsdiff
