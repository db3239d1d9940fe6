package ghash

import "testing"

// GLib's g_str_hash, checked against known djb2 values (signed chars).
func TestGStrHash(t *testing.T) {
	if gStrHash("") != 5381 || gStrHash("a") != 5381*33+'a' {
		t.Error("djb2 mismatch")
	}
	if gStrHash("\xff") != 5381*33-1 {
		t.Errorf("bytes >= 0x80 must be sign-extended: %d", gStrHash("\xff"))
	}
}
