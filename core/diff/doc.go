// Package diff compares two trees, each a commit's tree or a directory on
// disk, the way `ostree diff` does: entries present in both with different
// checksums (or types) are modified, the rest removed or added. Between two
// commit trees, subdirectories whose dirtree checksums are equal are skipped
// without being read (the Merkle property); a directory on disk is
// checksummed on the fly, file by file, as ostree would commit it.
//
// Items come in ostree's order: a depth-first walk of the old tree in its
// enumeration order (files then directories for commits, readdir order on
// disk), added entries of a directory after those of its subdirectories.
package diff
