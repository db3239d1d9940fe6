// Package repotest holds helpers for tests that need real repositories and
// the real ostree binary: NeedOstree fails in CI ($CI set) when ostree is
// missing and skips otherwise, so interop tests can never silently pass.
// Test-only: no engine package imports it.
package repotest
