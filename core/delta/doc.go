// Package delta owns OSTree's static delta formats (ostree-format.md §7)
// and the delta files of a repository: names and paths (modified base64),
// the superblock and its signed wrapper, part headers and fallback
// entries with their endianness rules, part files (checksum, then xz or
// no compression) and the part payload, the opcode stream parsed into a
// checked Program, and the repository's deltas/ and delta-indexes/
// directories (list, delete, reindex).
//
// Reading is strict and bounded: every offset and size an opcode names is
// checked against the part before anything is written, a part's SHA-256 is
// checked before it is decompressed, decompression stops at a limit, and no
// allocation is sized by a claim in the data.
//
// Writing produces little-endian values and records
// ostree.endianness='l'; big-endian ('B') deltas, and old deltas without
// the key (ostree's size heuristic), are read.
//
// Applying a delta to a repository is package delta/apply; generating one
// is package delta/generate. This package does no network I/O and never
// prints.
package delta
