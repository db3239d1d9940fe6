// Package pull copies commits, and everything they reach, from a Source
// into a repository: pull-local (LocalSource), pulls from HTTP(S)
// remotes (core/remote builds that Source), and static deltas (offered
// each commit through Options.Delta before objects are fetched).
//
// It owns the pull algorithm: resolving refs, the parallel scan of
// commits, dirtrees and dirmetas, the largest-first queue of content
// objects, verification of everything it stores (metadata: checksum,
// normal form, structure, dirtree names; content: checksum unless the
// source is trusted), partial-commit marks, and moving refs only once the
// whole graph is in and synced. Objects the destination has are never
// fetched again, and a pull that fails keeps what it verified, so the
// next one resumes.
//
// It owns the pull algorithm, not storage (core/repo) nor transport (a
// new place to pull from is a new Source: loose files, HTTP, delta
// parts). It never prints; progress goes out as core/progress events.
package pull
