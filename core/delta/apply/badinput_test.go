package apply_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/bsdiff"
	"github.com/groveos/grove/core/delta"
	"github.com/groveos/grove/core/delta/apply"
	"github.com/groveos/grove/core/delta/deltatest"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
)

func countObjects(t *testing.T, r *repo.Repo) int {
	t.Helper()
	n := 0
	if err := r.ListObjects(context.Background(), func(oid.ObjectName) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func ops(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case byte:
			b = append(b, v)
		case rune:
			b = append(b, byte(v))
		case int:
			b = binary.AppendUvarint(b, uint64(v))
		case uint64:
			b = binary.AppendUvarint(b, v)
		}
	}
	return b
}

func fileSum(t *testing.T, content string, mode uint32) oid.Checksum {
	t.Helper()
	s, err := object.ContentChecksum(&object.FileHeader{Mode: mode}, strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// badDelta holds a real superblock (TO commit and all) whose single part
// is replaced by a crafted one.
type badDelta struct {
	t    *testing.T
	p    *deltatest.Pair
	base *delta.Superblock
}

func newBadDelta(t *testing.T) *badDelta {
	p := deltatest.NewPair(t, 0)
	sb := generate(t, p, "--empty")
	data, _ := os.ReadFile(sb)
	s, _, err := delta.ParseFile(data)
	if err != nil {
		t.Fatal(err)
	}
	return &badDelta{t: t, p: p, base: s}
}

// write stores a delta with one part (payload, objects) and returns its
// superblock path; mutate may damage the part file afterwards.
func (b *badDelta) write(pl *delta.Payload, objs []oid.ObjectName, mutate func(part []byte) []byte) string {
	dir := b.t.TempDir()
	part := append([]byte{0}, pl.Marshal()...)
	sb := *b.base
	sb.Inline = nil
	sb.Fallbacks = nil
	sb.Parts = []delta.PartHeader{{Checksum: oid.Sum(part), Size: uint64(len(part)), USize: 4, Objects: objs}}
	if mutate != nil {
		part = mutate(part)
	}
	os.WriteFile(filepath.Join(dir, "0"), part, 0o644)
	os.WriteFile(filepath.Join(dir, "superblock"), sb.Marshal(), 0o644)
	return filepath.Join(dir, "superblock")
}

// Every kind of bad input is refused with a clear error, and leaves no
// object (nor partial mark) behind.
func TestBadInput(t *testing.T) {
	t.Parallel()
	b := newBadDelta(t)
	ctx := context.Background()
	mode := uint32(0o100644)
	want := oid.ObjectName{Checksum: fileSum(t, "2.0\n", mode), Type: oid.File}
	old := fileSum(t, "1.0\n", mode)           // in FROM
	secret := fileSum(t, "secret\n", 0o100600) // a 0600 object, added below
	missing := oid.Sum([]byte("nothing"))
	modes := []delta.Mode{{UID: 0, GID: 0, Mode: mode}}
	xs := [][]object.Xattr{nil}
	patchPast := append(make([]byte, 24), bytes.Repeat([]byte{1}, 100)...)
	patchPast[0] = 100 // ctrl[0] = 100 diff bytes for a 4-byte object
	goodPatch, _ := bsdiff.DiffBytes([]byte("1.0\n"), []byte("2.0\n"))

	cases := []struct {
		name   string
		pl     *delta.Payload
		objs   []oid.ObjectName
		mutate func([]byte) []byte
		errIs  error
		msg    string
	}{
		{"valid", &delta.Payload{Modes: modes, Xattrs: xs, Blob: []byte("2.0\n"), Ops: ops('S', 0, 0, 4, 0)}, []oid.ObjectName{want}, nil, nil, ""},
		{"blob overrun", &delta.Payload{Modes: modes, Xattrs: xs, Blob: []byte("2.0\n"), Ops: ops('S', 0, 0, 4, 1000)}, []oid.ObjectName{want}, nil, delta.ErrCorrupt, "past the end of the 4-byte blob"},
		{"object list overrun", &delta.Payload{Modes: modes, Xattrs: xs, Blob: []byte("2.0\n"), Ops: ops('S', 0, 0, 4, 0, 'S', 0, 0, 4, 0)}, []oid.ObjectName{want}, nil, delta.ErrCorrupt, "past the end of the object list"},
		{"mode table overrun", &delta.Payload{Modes: modes, Xattrs: xs, Blob: []byte("2.0\n"), Ops: ops('S', 7, 0, 4, 0)}, []oid.ObjectName{want}, nil, delta.ErrCorrupt, "out of range"},
		{"size claim", &delta.Payload{Modes: modes, Xattrs: xs, Blob: []byte("2.0\n"), Ops: ops('o', 0, 0, uint64(1)<<60, 'w', 4, 0, 'c')}, []oid.ObjectName{want}, nil, delta.ErrCorrupt, "declared"},
		{"splice size claim", &delta.Payload{Modes: modes, Xattrs: xs, Blob: []byte("2.0\n"), Ops: ops('S', 0, 0, uint64(1)<<62, 0)}, []oid.ObjectName{want}, nil, delta.ErrCorrupt, "past the end"},
		{"truncated opcodes", &delta.Payload{Modes: modes, Xattrs: xs, Blob: []byte("2.0\n"), Ops: []byte{'S', 0, 0, 0x80}}, []oid.ObjectName{want}, nil, delta.ErrCorrupt, "varint"},
		{"wrong content", &delta.Payload{Modes: modes, Xattrs: xs, Blob: []byte("3.0\n"), Ops: ops('S', 0, 0, 4, 0)}, []oid.ObjectName{want}, nil, nil, "corrupt"},
		{"bspatch past target", &delta.Payload{Modes: modes, Xattrs: xs, Blob: append(old.Bytes(), patchPast...), Ops: ops('r', 0, 'o', 0, 0, 4, 'B', 32, len(patchPast), 'c')}, []oid.ObjectName{want}, nil, nil, "bspatch"},
		{"bspatch valid", &delta.Payload{Modes: modes, Xattrs: xs, Blob: append(old.Bytes(), goodPatch...), Ops: ops('r', 0, 'o', 0, 0, 4, 'B', 32, len(goodPatch), 'c', 'R')}, []oid.ObjectName{want}, nil, nil, ""},
		{"absent read source", &delta.Payload{Modes: modes, Xattrs: xs, Blob: missing.Bytes(), Ops: ops('r', 0, 'o', 0, 0, 4, 'w', 4, 0, 'c')}, []oid.ObjectName{want}, nil, apply.ErrReadSource, "not found"},
		{"private read source", &delta.Payload{Modes: modes, Xattrs: xs, Blob: secret.Bytes(), Ops: ops('r', 0, 'o', 0, 0, 4, 'w', 4, 0, 'c')}, []oid.ObjectName{want}, nil, apply.ErrReadSource, "world-readable"},
		{"read past source", &delta.Payload{Modes: modes, Xattrs: xs, Blob: old.Bytes(), Ops: ops('r', 0, 'o', 0, 0, 4, 'w', 4, 2, 'c')}, []oid.ObjectName{want}, nil, delta.ErrCorrupt, "Unexpected EOF"},
		{"bit flip", &delta.Payload{Modes: modes, Xattrs: xs, Blob: []byte("2.0\n"), Ops: ops('S', 0, 0, 4, 0)}, []oid.ObjectName{want}, func(p []byte) []byte { p[len(p)/2] ^= 4; return p }, delta.ErrChecksum, "expected="},
		{"truncated part", &delta.Payload{Modes: modes, Xattrs: xs, Blob: []byte("2.0\n"), Ops: ops('S', 0, 0, 4, 0)}, []oid.ObjectName{want}, func(p []byte) []byte { return p[:len(p)-3] }, delta.ErrCorrupt, "the superblock says"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := repotest.NewRepo(t, repo.ModeArchive)
			repotest.Ostree(t, "--repo="+r.Path(), "pull-local", b.p.Repo, b.p.From)
			// A private (0600) object for the read-source test.
			sec := filepath.Join(t.TempDir(), "sec")
			os.MkdirAll(sec, 0o755)
			os.WriteFile(filepath.Join(sec, "s"), []byte("secret\n"), 0o600)
			deltatest.Commit(t, r.Path(), "secret", sec, "2024-01-01T00:00:00Z")
			before := countObjects(t, r)
			_, err := apply.Offline(ctx, r, b.write(c.pl, c.objs, c.mutate), apply.Options{})
			if c.msg == "" && c.errIs == nil {
				if err == nil || !errors.Is(err, apply.ErrIncomplete) {
					// The crafted delta carries one file of the tree only.
					t.Fatalf("valid part: %v", err)
				}
				if ok, _ := r.HasObject(ctx, want); !ok {
					t.Fatal("object not written")
				}
				return
			}
			if err == nil {
				t.Fatal("bad delta accepted")
			}
			if c.errIs != nil && !errors.Is(err, c.errIs) {
				t.Errorf("err = %v, want %v", err, c.errIs)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %q, want it to mention %q", err, c.msg)
			}
			if after := countObjects(t, r); after != before {
				t.Errorf("%d objects left behind", after-before)
			}
			if r.IsPartial(b.base.To) {
				t.Error("partial mark left")
			}
		})
	}
}

// A superblock whose part checksum does not match the part, or whose
// digest differs from the one expected, is refused.
func TestBadSuperblock(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 0)
	sb := generate(t, p, "--empty")
	data, _ := os.ReadFile(sb)
	s, _, _ := delta.ParseFile(data)
	s.Parts[0].Checksum[0] ^= 1
	os.WriteFile(sb, s.Marshal(), 0o644)
	r := repotest.NewRepo(t, repo.ModeBareUser)
	if _, err := apply.Offline(context.Background(), r, sb, apply.Options{}); !errors.Is(err, delta.ErrChecksum) {
		t.Fatalf("err = %v", err)
	}
	assertEmpty(t, r)
	digest := oid.Sum([]byte("other"))
	if _, err := apply.Offline(context.Background(), r, sb, apply.Options{Digest: &digest}); !errors.Is(err, apply.ErrDigest) {
		t.Fatalf("err = %v", err)
	}
}

// A signed superblock verifies with the right key and is refused with a
// wrong one; an unsigned one is refused when signatures are required.
func TestSignedSuperblock(t *testing.T) {
	t.Parallel()
	p := deltatest.NewPair(t, 0)
	sbPath := generate(t, p, "--empty")
	raw, _ := os.ReadFile(sbPath)
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	sig := ed25519.Sign(priv, raw)
	signed := delta.MarshalSigned(raw, []gvariant.DictEntry{{Key: "ostree.sign.ed25519", Value: gvariant.NewVariant("aay", []any{sig})}})
	signedPath := filepath.Join(filepath.Dir(sbPath), "signed")
	os.WriteFile(signedPath, signed, 0o644)
	verify := func(key ed25519.PublicKey) func(*delta.Signed) error {
		return func(s *delta.Signed) error {
			if s == nil {
				return delta.ErrSignature
			}
			for _, sg := range s.SignaturesOf("ed25519") {
				if ed25519.Verify(key, s.Superblock, sg) {
					return nil
				}
			}
			return delta.ErrSignature
		}
	}
	r := repotest.NewRepo(t, repo.ModeBareUser)
	if _, err := apply.Offline(context.Background(), r, signedPath, apply.Options{Verify: verify(otherPub)}); !errors.Is(err, delta.ErrSignature) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := apply.Offline(context.Background(), r, sbPath, apply.Options{Verify: verify(pub)}); !errors.Is(err, delta.ErrSignature) {
		t.Fatalf("unsigned: %v", err)
	}
	assertEmpty(t, r)
	if _, err := apply.Offline(context.Background(), r, signedPath, apply.Options{Verify: verify(pub)}); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, r, p.To, p.ToDir)
}
