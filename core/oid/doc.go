// Package oid holds OSTree's object identities: SHA-256 checksums, object
// types with their loose-file extensions, and the name rules for refs and
// remotes. It depends on the standard library only.
package oid
