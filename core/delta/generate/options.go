package generate

import (
	"errors"
	"time"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/progress"
)

// ErrOptions reports invalid options.
var ErrOptions = errors.New("generate: invalid options")

// Options configure Generate. Sizes are bytes (the CLI takes ostree's
// megabytes, 1 MB = 1000000 bytes, and multiplies).
type Options struct {
	From *oid.Checksum // nil: from scratch
	To   oid.Checksum
	// MinFallbackSize: new regular files larger than this are left out of
	// the parts, for the client to fetch on their own. -1 means ostree's
	// default (4 MB); 0 disables fallbacks.
	MinFallbackSize int64
	// MaxChunkSize caps a part's payload (a single larger object still
	// gets a part of its own). 0 means 32 MB.
	MaxChunkSize int64
	// MaxBsdiffSize: bsdiff is tried only when the old and new file
	// together are at most this big. -1 means 128 MB.
	MaxBsdiffSize int64
	DisableBsdiff bool
	// Inline stores the parts inside the superblock.
	Inline bool
	// Endian of part headers and fallback sizes; 0 means little.
	Endian delta.Endianness
	// Filename writes the superblock there (parts beside it) instead of
	// into the repository's deltas/.
	Filename string
	// Signers sign the superblock; it is then written in the signed form.
	Signers []delta.Signer
	// Metadata is put first in the superblock's metadata.
	Metadata []gvariant.DictEntry
	// Now is the superblock timestamp; zero means the current time.
	Now time.Time
	// Jobs bounds the parallel work; 0 means GOMAXPROCS.
	Jobs int
	// MemoryBudget bounds the memory of bsdiff and rollsum work in flight
	// (one job may always run); 0 means 1 GiB.
	MemoryBudget int64
	Progress     progress.Func
}

func (o *Options) validate() {
	if o.MinFallbackSize < 0 {
		o.MinFallbackSize = 4_000_000
	}
	if o.MaxChunkSize <= 0 {
		o.MaxChunkSize = 32_000_000
	}
	if o.MaxBsdiffSize < 0 {
		o.MaxBsdiffSize = 128_000_000
	}
	if o.Endian != delta.Big {
		o.Endian = delta.Little
	}
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = 1 << 30
	}
}

// Result says what Generate wrote, with ostree's verbose counters.
type Result struct {
	Name           delta.Name
	SuperblockPath string
	Parts          int
	Fallbacks      int
	Rollsum        int   // objects rebuilt from old chunks
	RollsumBytes   int64 // bytes taken from old objects
	Bsdiff         int   // objects patched
	Uncompressed   int64 // sum of the objects' sizes in parts
	Compressed     int64 // sum of the part file sizes
	Loose          int64 // what the objects take in the repository
}
