// Package inflate is a one-shot DEFLATE (RFC 1951) decoder for payloads
// held in memory, used to verify archive-mode (.filez) objects in bulk.
//
// Why hand-written: checking an archive repository is mostly inflating,
// and klauspost/compress's flate (like the standard library's) is a
// streaming decoder that reads a byte at a time and copies through a
// separate 32 KiB window; it runs at half the speed of a decoder that
// refills a 64-bit bit buffer eight bytes at a time, decodes through
// two-level tables and copies matches inside its own output buffer. No
// well-kept Go module offers such a one-shot decoder.
//
// It is strict like zlib (over-subscribed or incomplete codes, distances
// before the start, bad stored lengths, symbols 286/287 and 30/31 are
// refused), and every caller falls back to the streaming library reader on
// any error, so its only job is to be fast on good data: errors shown to
// users come from the library. FuzzInflate holds it to the library's
// verdicts.
package inflate
