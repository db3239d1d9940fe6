// Package summary builds a repository's "summary" file, the index that
// `ostree pull` reads first: type (a(s(taya{sv}))a{sv}), local refs sorted
// by name with their commit sizes and checksums, plus repository metadata
// (ostree-format.md §6, ostree_repo_regenerate_summary in 2022.7).
//
// It owns the summary format and its regeneration; it reads refs and
// commits through core/repo and never prints.
package summary
