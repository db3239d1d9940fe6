package keyring

import (
	"bytes"
	"testing"
)

// FuzzKeybox feeds arbitrary bytes to the keybox parser and to Parse,
// which hands what it finds to go-crypto: neither may panic, and every
// keyblock found must lie inside the input.
func FuzzKeybox(f *testing.F) {
	a := newEntity(f, "Alice")
	f.Add(keybox(f, serialized(f, a)))
	f.Add(keybox(f))
	f.Add(header())
	f.Add(append(header(), blob(2, 0, []byte{0x99, 0, 1, 4})...))
	f.Fuzz(func(t *testing.T, data []byte) {
		blocks, err := kbxKeyblocks(data)
		if err == nil {
			for _, b := range blocks {
				if len(b) > 0 && !bytes.Contains(data, b) {
					t.Fatalf("keyblock %x not in the input", b)
				}
			}
		}
		k, err := Parse(data)
		if err == nil {
			var buf bytes.Buffer
			if err := k.Serialize(&buf); err != nil {
				t.Fatal(err)
			}
		}
	})
}
