// Package etcmerge carries an administrator's /etc changes into a new
// deployment the way libostree 2022.7 does (merge_configuration_from), and
// previews that merge before it happens, which libostree cannot.
//
// The local changes are the difference between the merge deployment's
// usr/etc (the defaults it shipped) and its etc (what the machine runs),
// compared like `ostree diff` ignoring extended attributes: content,
// owner, mode and type, directories included. Then in the new etc (a copy
// of the new usr/etc): locally removed paths are removed, locally modified
// and added paths are copied over whatever the new defaults hold (local
// changes always win, there is no textual merge), and everything else
// keeps the new default. Preview classifies every path the same way and
// attaches a line diff (sergi/go-diff) of each change.
//
// The package works on plain directories and owns the libglnx-style copy
// helpers (owner, mode, xattrs, timestamps); it knows nothing of
// deployments, boot entries or repositories, and never prints.
package etcmerge
