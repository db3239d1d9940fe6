// Package object encodes, decodes and checksums OSTree's objects on top of
// package gvariant. Byte layouts (all multi-byte integers marked BE are
// byte-swapped before serialisation, as libostree does):
//
//	commit   (a{sv}aya(say)sstayay)  metadata, parent ("" or 32 bytes), related,
//	                                 subject, body, timestamp BE, root dirtree, root dirmeta
//	dirtree  (a(say)a(sayay))        files (name, content csum), dirs (name, tree, meta),
//	                                 each sorted by strcmp of the name
//	dirmeta  (uuua(ayay))            uid BE, gid BE, mode BE (with S_IFDIR), xattrs
//	xattrs   a(ayay)                 (name with trailing NUL, value), sorted by name
//
// A content object is identified by the SHA-256 of the stream
//
//	BE32(len(H)) 00 00 00 00 H payload
//
// where H is the file header (uuuusa(ayay)): uid, gid, mode (BE), rdev (0),
// symlink target ("" for regular files), xattrs. Symlinks have no payload.
// The archive ".filez" form stores BE32(len(A)) 00 00 00 00 A followed by the
// raw DEFLATE of the payload, with A = (tuuuusa(ayay)): the uncompressed size
// (BE) then the same fields.
//
// Metadata objects are named by the SHA-256 of their serialised bytes, which
// must be in GVariant normal form.
package object
