package delta_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/delta/deltatest"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repotest"
)

func TestNames(t *testing.T) {
	t.Parallel()
	// The layout example of ostree-format.md §7.1.
	to, _ := oid.ParseModifiedBase64("A8rl6BlybPLXTDk2XX4bBuJzuGJjVyiwdLvf27p9gqs")
	from, _ := oid.ParseModifiedBase64("KjYgok1VPZAcuspX80Hk1BsDTo_Aorwna9ufYagVQsE")
	n := delta.Name{To: to}
	if got := n.Dir(); got != "deltas/A8/rl6BlybPLXTDk2XX4bBuJzuGJjVyiwdLvf27p9gqs" {
		t.Fatalf("scratch dir %s", got)
	}
	n.From = from
	if got := n.Dir(); got != "deltas/Kj/Ygok1VPZAcuspX80Hk1BsDTo_Aorwna9ufYagVQsE-A8rl6BlybPLXTDk2XX4bBuJzuGJjVyiwdLvf27p9gqs" {
		t.Fatalf("from dir %s", got)
	}
	if got := n.PartPath(3); got != n.Dir()+"/3" {
		t.Fatal(got)
	}
	back, err := delta.ParseName(n.String())
	if err != nil || back != n {
		t.Fatalf("ParseName(%s) = %v, %v", n, back, err)
	}
	if _, err := delta.ParseName("GARBAGE"); err == nil || !bytes.Contains([]byte(err.Error()), []byte("Invalid rev GARBAGE")) {
		t.Fatalf("bad name error: %v", err)
	}
	if got := delta.IndexPath(to); got != "delta-indexes/A8/rl6BlybPLXTDk2XX4bBuJzuGJjVyiwdLvf27p9gqs.index" {
		t.Fatal(got)
	}
}

// Deltas written by ostree decode, every part opens (checksum, xz) and
// its opcodes parse against the object list, and re-encoding the
// superblock gives ostree's bytes back.
func TestOstreeDeltasDecode(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 1200<<10)
	cases := []struct {
		name            string
		args            []string
		scratch, inline bool
		endian          delta.Endianness
	}{
		{"scratch", []string{"--empty"}, true, false, delta.Little},
		{"from-to", []string{"--from=" + p.From}, false, false, delta.Little},
		{"inline", []string{"--from=" + p.From, "--inline"}, false, true, delta.Little},
		{"big-endian", []string{"--from=" + p.From, "--set-endianness=B"}, false, false, delta.Big},
		{"small-chunks", []string{"--from=" + p.From, "--max-chunk-size=1"}, false, false, delta.Little},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			sbPath := filepath.Join(dir, "superblock")
			repotest.Ostree(t, append([]string{"--repo=" + p.Repo, "static-delta", "generate", "--to=" + p.To, "--filename=" + sbPath}, c.args...)...)
			data, err := os.ReadFile(sbPath)
			if err != nil {
				t.Fatal(err)
			}
			sb, signed, err := delta.ParseFile(data)
			if err != nil {
				t.Fatal(err)
			}
			if signed != nil {
				t.Fatal("unsigned delta read as signed")
			}
			if sb.To.String() != p.To || sb.Name().Scratch() != c.scratch || sb.Endian != c.endian || sb.Heuristic {
				t.Fatalf("to %s scratch %v endian %v heuristic %v", sb.To, sb.Name().Scratch(), sb.Endian, sb.Heuristic)
			}
			if !c.scratch && sb.From.String() != p.From {
				t.Fatalf("from %s", sb.From)
			}
			if got := sb.Marshal(); !bytes.Equal(got, data) {
				t.Fatalf("re-encoded superblock differs from ostree's (%d vs %d bytes)", len(got), len(data))
			}
			objects := 0
			for i, h := range sb.Parts {
				var file []byte
				var want *oid.Checksum
				if c.inline {
					file = sb.Inline[i]
				} else {
					if file, err = os.ReadFile(filepath.Join(dir, strconv.Itoa(i))); err != nil {
						t.Fatal(err)
					}
					want = &h.Checksum
				}
				if uint64(len(file)) != h.Size {
					t.Fatalf("part %d: %d bytes, header says %d", i, len(file), h.Size)
				}
				pl, err := delta.OpenPart(file, want, delta.PayloadLimit(h, 1<<30))
				if err != nil {
					t.Fatalf("part %d: %v", i, err)
				}
				prog, err := delta.Parse(pl, h.Objects)
				if err != nil {
					t.Fatalf("part %d: %v", i, err)
				}
				objects += len(prog.Steps)
				// Our payload encoder writes the same bytes as ostree's.
				raw := pl.Marshal()
				pl2, err := delta.UnmarshalPayload(raw)
				if err != nil || !bytes.Equal(pl2.Marshal(), raw) {
					t.Fatalf("payload round trip: %v", err)
				}
			}
			if objects == 0 {
				t.Fatal("no objects")
			}
			if c.name == "small-chunks" && len(sb.Parts) < 2 {
				t.Fatalf("%d parts with --max-chunk-size=1", len(sb.Parts))
			}
		})
	}
}

// A part whose bytes do not match the header's checksum is refused before
// decompression; so is a truncated one, or a bit flip.
func TestPartChecksumFirst(t *testing.T) {
	t.Parallel()
	payload := (&delta.Payload{Blob: []byte("hello"), Ops: []byte{}}).Marshal()
	file := append([]byte{0}, payload...)
	sum := oid.Sum(file)
	if _, err := delta.OpenPart(file, &sum, 1<<20); err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), file...)
	bad[3] ^= 1
	if _, err := delta.OpenPart(bad, &sum, 1<<20); err == nil {
		t.Fatal("bit flip accepted")
	}
	if _, err := delta.OpenPart(file[:len(file)-1], &sum, 1<<20); err == nil {
		t.Fatal("truncated part accepted")
	}
	if _, err := delta.OpenPart(file, nil, 2); err == nil {
		t.Fatal("payload over the limit accepted")
	}
}
