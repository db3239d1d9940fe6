// Package mtree holds the mutable tree commits are built in (like ostree's
// OstreeMutableTree: a dirmeta plus named files and subdirectories, taken
// lazily from existing dirtrees and written back as dirtree objects), the
// Modifier that filters entries on their way in (owners, permissions,
// xattrs, statoverride, skip list, devino reuse) and what every importer
// takes (ImportOptions) and counts (ImportStats). Importers live in
// core/compose/dirimport and core/compose/tarimport; core/compose drives
// them. It never prints.
package mtree
