package remote

import (
	"testing"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/summary"
)

func summaryBytes(tb testing.TB, refs []any) []byte {
	tb.Helper()
	meta := []gvariant.DictEntry{{Key: summary.KeyMode, Value: gvariant.NewVariant("s", "archive-z2")}}
	b, err := gvariant.Marshal(summary.Type, gvariant.Tuple{refs, meta})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// FuzzParseSummary feeds arbitrary bytes to the summary decoder that runs
// on what a remote serves: no panic, and what it accepts has valid ref
// names and 32-byte checksums.
func FuzzParseSummary(f *testing.F) {
	sum := oid.Sum([]byte("commit"))
	entry := func(name string, csum []byte) any {
		return gvariant.Tuple{name, gvariant.Tuple{uint64(150), csum, []gvariant.DictEntry{
			{Key: summary.KeyCommitTime, Value: gvariant.NewVariant("t", uint64(1))}}}}
	}
	f.Add(summaryBytes(f, nil))
	f.Add(summaryBytes(f, []any{entry("os/main", sum[:])}))
	f.Add(summaryBytes(f, []any{entry("../evil", sum[:])}))
	f.Add(summaryBytes(f, []any{entry("short", sum[:5])}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSummary(data)
		if err != nil {
			return
		}
		for name := range s.Refs {
			if oid.ValidateRef(name) != nil {
				t.Fatalf("accepted ref name %q", name)
			}
		}
		s.Lookup(summary.KeyMode)
	})
}
