// Package remote is what a repository knows of other repositories:
// remotes kept where ostree keeps them (`[remote "NAME"]` groups in the
// config, or a booted system's remotes.d), their summaries (fetched and
// cached in tmp/cache/summaries as ostree caches them), the signature
// policy their options ask for, and the pull.Source that reads one over
// HTTP(S) through core/fetch (or opens a file:// repository directly).
//
// It owns the mapping from remote options to transport and verification
// settings and from objects to remote paths; the pull algorithm is
// core/pull's, the transport core/fetch's, the cryptography core/sign's.
// It never prints; its errors carry ostree's wording where ostree has one.
package remote
