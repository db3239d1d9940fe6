// Package inspect reads what the inspection verbs (log, show, ls, cat,
// rev-parse) need from a repository: revs resolved exactly as ostree
// resolves them, paths resolved inside a commit by walking dirtrees, and
// GVariant values byte-swapped the way ostree's dump code shows them. It
// never prints; callers format.
package inspect
