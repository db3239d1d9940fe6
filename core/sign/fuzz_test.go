package sign

import (
	"context"
	"testing"
	"time"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
)

// FuzzSignatureMetadata decodes arbitrary bytes as detached metadata or
// summary.sig (an a{sv}), pulls the signatures out of it and verifies
// them with both engines, and reads the bytes as a signed superblock:
// nothing may panic, and a GPG result must have one entry per parsed
// signature packet.
func FuzzSignatureMetadata(f *testing.F) {
	ctx := context.Background()
	alice := genKey(f, "Alice", time.Time{}, 0)
	sec, pub := newEd25519(f)
	ed, _ := NewEd25519Signer(sec)
	data := []byte("commit bytes")
	meta, _ := SignData(ctx, data, nil, ed)
	meta = AppendSignature(meta, KeyGPG, signAt(f, alice, data, time.Now(), 0))
	meta = append(meta, gvariant.DictEntry{Key: "other", Value: gvariant.NewVariant("s", "x")})
	f.Add(object.MarshalMeta(meta))
	f.Add(object.MarshalMeta(nil))
	sb, _ := SignSuperblock(ctx, []byte("superblock"), ed)
	f.Add(sb)
	gv := NewGPGVerifier(publicRing(f, alice))
	ev := &Ed25519Verifier{}
	ev.AddKey(pub)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := ParseMeta(b); err == nil {
			gs := Signatures(m, KeyGPG)
			if res, err := gv.Verify(ctx, data, gs); res != nil {
				parsed, perr := ParseGPGSignatures(gs)
				if perr != nil || len(parsed) != len(res.Signatures) {
					t.Fatalf("result of %d for %d parsed signatures (%v)", len(res.Signatures), len(parsed), perr)
				}
			} else if err == nil {
				t.Fatal("nil result without an error")
			}
			ev.Verify(ctx, data, Signatures(m, KeyEd25519))
			if s := Signatures(m, KeyGPG); s != nil {
				back := SetSignatures(m, KeyGPG, s)
				if len(Signatures(back, KeyGPG)) != len(s) {
					t.Fatal("SetSignatures lost signatures")
				}
			}
		}
		if inner, m, err := OpenSignedSuperblock(b); err == nil {
			VerifySuperblock(ctx, ev, b)
			_ = inner
			_ = SuperblockEngines(b)
			_ = m
		}
	})
}
