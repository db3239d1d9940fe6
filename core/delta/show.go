package delta

import "context"

// PartInfo is what `static-delta show` reports of one part.
type PartInfo struct {
	Header           PartHeader
	Modes, Xattrs    int
	BlobSize, OpSize int
	Stats            OpStats
}

// Signer signs superblock bytes (core/sign's signers have this shape).
type Signer interface {
	Engine() string
	Sign(ctx context.Context, data []byte) ([]byte, error)
}

// DescribeParts opens every part (inline ones from the superblock, the
// others through read) and checks its opcodes, for show. The part
// checksums are checked too.
func DescribeParts(sb *Superblock, read func(i int, h PartHeader) ([]byte, error)) ([]PartInfo, error) {
	out := make([]PartInfo, len(sb.Parts))
	for i, h := range sb.Parts {
		data, inline := sb.Inline[i]
		want := &h.Checksum
		if inline {
			want = nil
		} else {
			var err error
			if data, err = read(i, h); err != nil {
				return nil, err
			}
		}
		pl, err := OpenPart(data, want, PayloadLimit(h, 2<<30))
		if err != nil {
			return nil, err
		}
		prog, err := Parse(pl, h.Objects)
		if err != nil {
			return nil, err
		}
		out[i] = PartInfo{Header: h, Modes: len(pl.Modes), Xattrs: len(pl.Xattrs), BlobSize: len(pl.Blob), OpSize: len(pl.Ops), Stats: prog.Stats}
	}
	return out, nil
}
