package delta

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// xzDecode decompresses an .xz stream of LZMA2 blocks (what liblzma's easy
// encoder and this package's writer produce) into at most limit bytes.
//
// It walks the container itself rather than using xz.NewReader because
// that reader allocates whatever dictionary a block header claims (up to
// 4 GiB from a few bytes of input); here the dictionary is capped at the
// output limit, which no valid stream needs to exceed. Block checks
// (CRC32, CRC64) are verified; the index and footer are not read (the
// part's SHA-256 or the superblock covers the bytes).
func xzDecode(data []byte, limit int64) ([]byte, error) {
	bad := func(format string, args ...any) error {
		return corrupt("part: xz: "+format, args...)
	}
	if len(data) < 12 || !bytes.Equal(data[:6], []byte{0xfd, '7', 'z', 'X', 'Z', 0}) {
		return nil, bad("not an xz stream")
	}
	if crc32.ChecksumIEEE(data[6:8]) != binary.LittleEndian.Uint32(data[8:12]) || data[6] != 0 {
		return nil, bad("bad stream header")
	}
	var newCheck func() hash.Hash
	checkSize := 0
	switch data[7] {
	case 0x00:
	case 0x01:
		newCheck, checkSize = func() hash.Hash { return crc32.NewIEEE() }, 4
	case 0x04:
		newCheck, checkSize = func() hash.Hash { return crc64.New(crc64.MakeTable(crc64.ECMA)) }, 8
	default:
		return nil, bad("unsupported check type %d", data[7])
	}
	var out bytes.Buffer
	pos := 12
	for {
		if pos >= len(data) {
			return nil, bad("truncated")
		}
		if data[pos] == 0 { // index: no more blocks
			return out.Bytes(), nil
		}
		start := pos
		hsize := (int(data[pos]) + 1) * 4
		if pos+hsize > len(data) {
			return nil, bad("truncated block header")
		}
		hdr := data[pos : pos+hsize]
		if crc32.ChecksumIEEE(hdr[:hsize-4]) != binary.LittleEndian.Uint32(hdr[hsize-4:]) {
			return nil, bad("block header checksum")
		}
		flags := hdr[1]
		if flags&0x3c != 0 || flags&0x03 != 0 { // reserved bits, or more than one filter
			return nil, bad("unsupported block flags %#x", flags)
		}
		p := hdr[2 : hsize-4]
		for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} { // compressed, uncompressed size
			if present {
				_, n := binary.Uvarint(p)
				if n <= 0 {
					return nil, bad("block header sizes")
				}
				p = p[n:]
			}
		}
		if len(p) < 3 || p[0] != 0x21 || p[1] != 1 { // LZMA2, one property byte
			return nil, bad("unsupported filter")
		}
		db := p[2]
		if db > 40 {
			return nil, bad("dictionary size byte %d", db)
		}
		dict := int64(0xffffffff)
		if db < 40 {
			dict = int64(2|db&1) << (db/2 + 11)
		}
		dict = max(min(dict, limit, 1<<31), lzma.MinDictCap)
		pos += hsize
		br := bytes.NewReader(data[pos:])
		zr, err := lzma.Reader2Config{DictCap: int(dict)}.NewReader2(br)
		if err != nil {
			return nil, bad("%v", err)
		}
		var dst io.Writer = &out
		var check hash.Hash
		if newCheck != nil {
			check = newCheck()
			dst = io.MultiWriter(&out, check)
		}
		room := limit - int64(out.Len())
		n, err := io.Copy(dst, io.LimitReader(zr, room+1))
		if err != nil {
			return nil, bad("%v", err)
		}
		if n > room {
			return nil, fmt.Errorf("%w: part payload over %d bytes", ErrTooLarge, limit)
		}
		pos = len(data) - br.Len()
		for (pos-start)%4 != 0 {
			if pos >= len(data) || data[pos] != 0 {
				return nil, bad("block padding")
			}
			pos++
		}
		if pos+checkSize > len(data) {
			return nil, bad("truncated block check")
		}
		if check != nil {
			sum := check.Sum(nil)
			want := data[pos : pos+checkSize]
			// CRC32 and CRC64 are stored little-endian; Sum gives big-endian.
			for i := range sum {
				if sum[i] != want[len(want)-1-i] {
					return nil, bad("block check mismatch")
				}
			}
		}
		pos += checkSize
	}
}
