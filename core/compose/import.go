package compose

import (
	"context"
	"io"

	"github.com/groveos/grove/core/compose/dirimport"
	"github.com/groveos/grove/core/compose/tarimport"
	"github.com/groveos/grove/core/mtree"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// The mutable tree and its import options, under this package's names
// (they live in core/mtree, below the importers).
type (
	// Tree is a mutable directory being composed into a commit.
	Tree = mtree.Tree
	// Modifier adjusts what is committed (ostree's commit modifier).
	Modifier = mtree.Modifier
	// ImportOptions tune ImportDir and ImportTar.
	ImportOptions = mtree.ImportOptions
	// ImportStats count what an import did.
	ImportStats = mtree.ImportStats
	// Loader reads dirtrees to expand trees taken from commits.
	Loader = mtree.Loader
	// MetaWriter stores dirtree objects when a tree is written.
	MetaWriter = mtree.MetaWriter
)

// PhaseImport is the progress phase of ImportDir and ImportTar.
const PhaseImport = mtree.PhaseImport

// Errors of the tree and the importers.
var (
	ErrUnsupported = mtree.ErrUnsupported
	ErrConflict    = mtree.ErrConflict
	ErrBadPath     = mtree.ErrBadPath
	ErrTar         = tarimport.ErrTar
)

// NoModifier is the identity modifier.
func NoModifier() *Modifier { return mtree.NoModifier() }

// NewTree returns an empty tree with the given dirmeta.
func NewTree(meta oid.Checksum) *Tree { return mtree.New(meta) }

// TreeFrom returns a tree standing for an existing dirtree/dirmeta pair.
func TreeFrom(tree, meta oid.Checksum) *Tree { return mtree.From(tree, meta) }

// SplitPath splits a tree path into its names.
func SplitPath(p string) []string { return mtree.SplitPath(p) }

// ImportDir reads the directory dir into a new Tree, writing content and
// dirmeta objects into tx on every core (core/compose/dirimport).
func ImportDir(ctx context.Context, tx *repo.Txn, dir string, opts ImportOptions) (*Tree, error) {
	return dirimport.Import(ctx, tx, dir, opts)
}

// ImportTar reads a tar archive (plain, gzip, xz, zstd or bzip2) into a
// new Tree as `ostree commit --tree=tar=FILE` does
// (core/compose/tarimport).
func ImportTar(ctx context.Context, tx *repo.Txn, r io.Reader, opts ImportOptions) (*Tree, error) {
	return tarimport.Import(ctx, tx, r, opts)
}
