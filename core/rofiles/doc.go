// Package rofiles is a FUSE file system that makes a directory tree visible
// at a mount point such that hardlinked files (objects of an OSTree
// repository checked out by hardlink) cannot be modified in place, while the
// tree itself stays writable: new files can be created, written, renamed and
// deleted, directories created and removed. It is a reimplementation of
// ostree's rofiles-fuse on github.com/hanwen/go-fuse/v2.
//
// The write rule is rofiles-fuse's (see Writable): a regular file or symlink
// with more than one link (or with fs-verity) may not be opened for writing
// or truncation, truncated, chmod'ed, chown'ed, or have extended attributes
// set or removed; the operation fails with EROFS, or, with Options.Copyup,
// the hardlink is first broken by replacing the name with a private copy
// (BreakHardlink). Timestamps may always be changed, and directories and
// other file types are never protected.
//
// The package never prints; errors name the paths involved.
package rofiles
