// Package trial tests one commit for bisect run: it materialises the
// commit's tree in a scratch directory and runs a command against it.
//
// The tree is a hardlink checkout (user mode from bare-user repositories)
// kept between candidates: moving to the next candidate applies only the
// difference between the two commits (core/diff, which skips equal
// subtrees unread), so a step costs what changed, not the whole tree. A
// marker file names the commit the scratch tree holds, removed while the
// tree changes, so that a tree left half-updated by a crash is checked
// out afresh.
//
// The command runs inside the tree: under bubblewrap when it works
// (`bwrap --ro-bind TREE / --dev /dev --proc /proc …`), else in a chroot
// of a private mount namespace when root, else on the host with
// $GROVE_BISECT_ROOT naming the tree. Sandboxed, the tree is mounted
// read-only, so the command cannot write through the hardlinks into the
// repository's objects; Writable checks out copies and mounts them
// read-write instead, and a command without a sandbox always gets copies
// (nothing would stop it writing into the objects). Every mode sets $GROVE_BISECT_ROOT (the tree's root
// as the command sees it) and $GROVE_BISECT_COMMIT.
//
// It never prints: the command's output goes to the writers given, and
// what the trial itself has to say (a command missing from a tree) goes
// to Stderr as the shell would put it.
package trial
