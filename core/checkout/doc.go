// Package checkout materialises a commit's tree (or a subpath of it) into a
// directory, with ostree checkout's semantics: hardlinks into bare
// repositories, copies otherwise, union modes, whiteouts and user mode.
// It also exports trees as tar archives, like `ostree export`.
//
// It reads objects through core/repo (ObjectDir for hardlinks) and never
// writes into the repository; it never prints.
package checkout
