// Package serve publishes an archive repository over HTTP, read-only, the
// way any static web server would: the files pulls ask for (config,
// summary, summary.sig, refs/, objects/, deltas/, delta-indexes/) with
// ranges, ETag and If-Modified-Since handled by net/http, real 404s, and
// nothing outside the repository: not through "..", not through a
// symlink, not the repository's own tmp/, state/ or keyrings.
//
// It owns the handler only; listening, TLS and logging belong to the
// caller (grove serve). It never writes to the repository.
package serve
