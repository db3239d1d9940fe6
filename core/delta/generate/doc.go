// Package generate writes static deltas between two commits (or from
// scratch) that ostree applies: object selection (what TO reaches and
// FROM does not), pairing of modified regular files (same basename, size
// within 30%, as ostree), rollsum reuse of unchanged chunks, bsdiff,
// fallback objects and packing into xz-compressed parts
// (ostree-format.md §7.5).
//
// Where it differs from ostree 2022.7, it does so on purpose:
//   - the rollsum hashes each chunk (ostree hashes the buffer start, so a
//     change in a file's first kilobyte defeats it);
//   - for a modified file both rollsum and bsdiff may be computed, and the
//     smaller is kept;
//   - objects are packed in a fixed order that groups similar files
//     (deterministic output for the same inputs and options);
//   - the work (pairing, rollsum, bsdiff, part compression) runs on every
//     core, bounded by GOMAXPROCS and a memory budget; bsdiff patches are
//     spooled to a temporary file and part payloads are streamed through
//     the compressor, so memory does not grow with the delta.
//
// The package never prints; it reports through progress.Func.
package generate
