// Package textual parses and formats the small text conventions ostree's
// command line inherits from GLib and gnulib: booleans (ot_parse_boolean),
// dates (a practical subset of gnulib's parse_datetime) and sizes
// (g_format_size). One implementation each, shared by every verb and the
// TUI, so that a date or a size means the same everywhere. It does no
// I/O.
package textual
