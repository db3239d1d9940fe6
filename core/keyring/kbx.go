package keyring

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Keybox (GnuPG 2.1+ pubring.kbx) reading. No maintained Go library reads
// the format, so this is a small hand-written parser of the documented
// layout (gnupg kbx/keybox-blob.c), fuzzed in kbx_test.go. A keybox is a
// sequence of blobs, every integer big-endian, every offset counted from
// the start of its blob:
//
//	u32 length of the blob (including these 4 bytes)
//	u8  type: 0 empty (deleted), 1 header ("first blob"), 2 OpenPGP, 3 X.509
//	u8  version (1)
//	u16 flags: bit 1 = ephemeral (a key gpg only looked at; not in the keyring)
//	u32 offset of the keyblock        \ OpenPGP and X.509 blobs only
//	u32 length of the keyblock        /
//	…   key, user ID and signature tables, the keyblock, a 20-byte checksum
//
// The header blob carries the magic "KBXf" at offset 8. The OpenPGP
// keyblock is a plain transferable public key: go-crypto parses it.

// kbxMagic is at offset 8 of the header blob.
var kbxMagic = []byte("KBXf")

// isKeybox reports whether data starts with a keybox header blob.
func isKeybox(data []byte) bool {
	return len(data) >= 12 && data[4] == 1 && bytes.Equal(data[8:12], kbxMagic)
}

// kbxKeyblocks returns the OpenPGP keyblocks of a keybox, in file order,
// skipping deleted, X.509 and ephemeral blobs.
func kbxKeyblocks(data []byte) ([][]byte, error) {
	if !isKeybox(data) {
		return nil, fmt.Errorf("%w: not a keybox (no KBXf header)", ErrMalformed)
	}
	var out [][]byte
	for off := 0; off < len(data); {
		if len(data)-off < 6 {
			return nil, fmt.Errorf("%w: keybox: truncated blob header at offset %d", ErrMalformed, off)
		}
		n := binary.BigEndian.Uint32(data[off:])
		if n < 6 || uint64(n) > uint64(len(data)-off) {
			return nil, fmt.Errorf("%w: keybox: blob at offset %d has bad length %d", ErrMalformed, off, n)
		}
		blob := data[off : off+int(n)]
		off += int(n)
		if blob[4] != 2 { // header, empty, X.509 or unknown
			continue
		}
		if blob[5] != 1 {
			return nil, fmt.Errorf("%w: keybox: OpenPGP blob version %d", ErrMalformed, blob[5])
		}
		if len(blob) < 16 {
			return nil, fmt.Errorf("%w: keybox: OpenPGP blob of %d bytes", ErrMalformed, len(blob))
		}
		if binary.BigEndian.Uint16(blob[6:])&2 != 0 {
			continue // ephemeral
		}
		ko := uint64(binary.BigEndian.Uint32(blob[8:]))
		kl := uint64(binary.BigEndian.Uint32(blob[12:]))
		if ko < 16 || ko+kl > uint64(len(blob)) {
			return nil, fmt.Errorf("%w: keybox: keyblock [%d,+%d) outside its %d-byte blob", ErrMalformed, ko, kl, len(blob))
		}
		out = append(out, blob[ko:ko+kl])
	}
	return out, nil
}
