package delta_test

import (
	"testing"

	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
)

func seedPayload() []byte {
	p := &delta.Payload{
		Modes:  []delta.Mode{{UID: 0, GID: 0, Mode: 0o100644}},
		Xattrs: [][]object.Xattr{nil},
		Blob:   []byte("hello world, 32 bytes of csum..!"),
		Ops:    []byte{'S', 0, 0, 5, 0, 'o', 0, 0, 5, 'w', 5, 0, 'c'},
	}
	return p.Marshal()
}

// FuzzSuperblock: any bytes decode to an error or a superblock that
// re-encodes and decodes again; no panic.
func FuzzSuperblock(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("OSTSGNDT"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sb, _, err := delta.ParseFile(data)
		if err != nil {
			return
		}
		if _, err := delta.ParseSuperblock(sb.Marshal()); err != nil {
			t.Fatalf("re-encoded superblock does not decode: %v", err)
		}
	})
}

// FuzzPart: any part file opens (bounded) or fails; no panic.
func FuzzPart(f *testing.F) {
	f.Add(append([]byte{0}, seedPayload()...))
	f.Add([]byte{'x', 0xfd, '7', 'z', 'X', 'Z', 0, 0, 4, 0xe6, 0xd6, 0xb4, 0x46})
	f.Fuzz(func(t *testing.T, data []byte) {
		delta.OpenPart(data, nil, 1<<20)
	})
}

// FuzzProgram: any opcode stream over any payload either parses into
// steps whose blob ranges are inside the blob, or fails; no panic.
func FuzzProgram(f *testing.F) {
	f.Add(seedPayload(), []byte{byte(oid.DirMeta)}, 1)
	f.Add(seedPayload(), []byte{byte(oid.File)}, 2)
	f.Fuzz(func(t *testing.T, payload []byte, types []byte, n int) {
		pl, err := delta.UnmarshalPayload(payload)
		if err != nil {
			return
		}
		var objs []oid.ObjectName
		for i, ty := range types {
			if i >= 64 {
				break
			}
			objs = append(objs, oid.ObjectName{Type: oid.ObjectType(ty%9 + 1), Checksum: oid.Sum([]byte{byte(i)})})
		}
		prog, err := delta.Parse(pl, objs)
		if err != nil {
			return
		}
		if len(prog.Steps) != len(objs) {
			t.Fatalf("%d steps for %d objects", len(prog.Steps), len(objs))
		}
		for _, s := range prog.Steps {
			var total uint64
			for _, seg := range s.Segments {
				if seg.Kind != delta.FromSource && seg.Off+seg.Size > uint64(len(pl.Blob)) {
					t.Fatalf("segment %+v outside the %d-byte blob", seg, len(pl.Blob))
				}
				if seg.Kind == delta.Patch {
					total += s.Size
				} else {
					total += seg.Size
				}
			}
			if total != s.Size {
				t.Fatalf("step writes %d of %d bytes", total, s.Size)
			}
		}
	})
}
