// Package fetch is grove's transport for pulls: GET requests for files of
// a remote repository over HTTP(S), or from file:// URLs, through one
// pooled keep-alive client (HTTP/2 where a TLS server offers it).
//
// It owns what a robust client needs against real and hostile servers:
// bounded connections, retries with backoff for transient failures (5xx,
// timeouts, resets, bodies cut short; 404 is final), a per-request
// header timeout and a stall timeout on bodies, redirect limits, size
// caps, TLS options (tls-permissive, tls-ca-path, client certificates),
// proxies, extra headers, conditional requests (ETag/Last-Modified) and
// mirrorlist= URLs tried in turn.
//
// It knows nothing of OSTree objects or repositories: paths in, bytes out
// (core/remote maps objects to paths and verifies what comes back). It
// never prints.
package fetch
