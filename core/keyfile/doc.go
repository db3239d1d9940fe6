// Package keyfile reads and writes GLib key files, the format of an ostree
// repository's config, remotes.d/*.conf, deployment .origin files and
// sysroot configs: [group] headers, key=value lines, ';'-separated lists,
// GLib's escapes, the last duplicate key winning. Files are kept line by
// line, so rewriting one preserves its comments, blank lines and order.
// It does no I/O: callers read and write the bytes (atomically).
package keyfile
