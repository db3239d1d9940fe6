// Package repo is the one owner of storage: it opens and creates OSTree
// repositories (config, mode, locking), knows where and how objects live
// in every mode (the loose layout objects/XX/REST.ext, bare-user's
// user.ostreemeta, archive's .filez), reads them (ObjectReader: fast
// by default; ObjectDir and BulkReader for descriptor-level bulk work),
// writes them (Txn: staging, flush, atomic commit), and keeps refs.
//
// Inside, internal/loose holds the loose object store (layout, readers,
// bulk access, listings) and internal/refs the refs; Repo embeds both, so
// their methods are Repo's. This package keeps what ties them together:
// opening and config, locking, and the write side (Txn).
//
// No other package builds an object path or parses the layout (archtest
// holds them to it); this package knows nothing of commits' meaning,
// pulls or checkouts, and never prints.
package repo
