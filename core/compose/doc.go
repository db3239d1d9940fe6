// Package compose builds commits: an in-memory mutable tree filled from
// directories, tarballs and existing commits (modified as `ostree commit`'s
// options say), written as dirtree, dirmeta and content objects in a
// transaction, then a commit object, its detached metadata and its ref.
// Commit(ctx, repo, Spec) is the one entry point the CLI and the TUI call.
//
// It owns commit semantics (ostree's option rules, metadata order,
// bindings, bootable kernels); storage is core/repo's Txn. It never prints.
package compose
