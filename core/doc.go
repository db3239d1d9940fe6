// Package core is Grove's engine; this file only draws it. Each concern is
// a package, and every package below imports only those above it:
//
//	oid, gvariant, keyfile, textual, progress    names, bytes, text, events (stdlib only)
//	object                                       commit, dirtree, dirmeta, file headers over gvariant
//	repo (+ internal/loose, internal/refs)       the one storage owner: ObjectReader, ObjectDir, Txn, refs
//	traverse, inspect, diff                      walking graphs (Walk, Reachable, Parallel), paths, diffs
//	compose, checkout, fsck, prune, summary      verbs over a Repo: Commit(ctx, repo, Spec), Checkout, Run, Prune
//	sign, keyring                                signatures (GPG, ed25519) and keyrings
//	pull (+ fetch, remote, serve)                Pull(ctx, repo, Source, Options); HTTP and local Sources
//	delta, sysroot, bisect …                     static deltas (a Source), deployments, bisect
//
// Seams: a new place to read objects from is a pull.Source (HasObject,
// ReadMeta, OpenContent: repo.ObjectReader, plus refs); a new verb is a
// core function taking ctx first and a progress.Func in its options, which
// cmd/grove (flags) and tui (a task) both call; a new screen is one
// views/ file with a small data interface that tui/ implements over core.
// Nothing in core prints or imports a UI package (archtest enforces it).
package core
