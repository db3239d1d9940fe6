package generate

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
)

// bup-style content-defined chunking (ostree's bupsplit): a rolling sum
// over a 64-byte window splits where its low 13 bits are all ones; chunks
// are capped at 32 KiB.
const (
	blobBits   = 13
	blobSize   = 1 << blobBits
	windowSize = 64
	charOffset = 31
	maxChunk   = 32 << 10
)

type chunk struct {
	off, size int64
	crc       uint32
}

// chunks splits r's content into chunks, each with the CRC32 of its own
// bytes (ostree 2022.7 takes the CRC of the buffer start by mistake).
// The rolling state restarts at every chunk, as bupsplit_find_ofs does.
func chunks(r io.Reader) ([]chunk, error) {
	var out []chunk
	buf := make([]byte, 256<<10)
	var (
		s1, s2 uint32
		window [windowSize]byte
		wofs   int
		start  int64
		pos    int64
		crc    uint32
	)
	reset := func() {
		s1 = windowSize * charOffset
		s2 = windowSize * (windowSize - 1) * charOffset
		window = [windowSize]byte{}
		wofs = 0
		crc = 0
	}
	reset()
	for {
		n, err := r.Read(buf)
		b := buf[:n]
		seg := 0 // start in b of the bytes not yet in crc
		for i, c := range b {
			drop := window[wofs]
			s1 += uint32(c) - uint32(drop)
			s2 += s1 - windowSize*(uint32(drop)+charOffset)
			window[wofs] = c
			wofs = (wofs + 1) % windowSize
			pos++
			if s2&(blobSize-1) == blobSize-1 || pos-start == maxChunk {
				crc = crc32.Update(crc, crc32.IEEETable, b[seg:i+1])
				out = append(out, chunk{off: start, size: pos - start, crc: crc})
				seg = i + 1
				start = pos
				reset()
			}
		}
		crc = crc32.Update(crc, crc32.IEEETable, b[seg:])
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if pos > start {
		out = append(out, chunk{off: start, size: pos - start, crc: crc})
	}
	return out, nil
}

// match is a chunk of the new file found in the old one.
type match struct {
	toOff, fromOff, size int64
}

// rollsumResult says how much of a new file the old one provides.
type rollsumResult struct {
	matches []match // sorted by toOff, disjoint
	total   int     // chunks in the new file
	matched int64   // bytes matched
	size    int64   // new file size
}

// ratio is the percentage of new chunks found, ostree's criterion (≥ 50).
func (r *rollsumResult) ratio() int {
	if r.total == 0 {
		return 0
	}
	return len(r.matches) * 100 / r.total
}

// rollsum matches new's chunks against old's: same length and CRC, then
// the bytes compared.
func rollsum(old, new io.ReaderAt, oldSize, newSize int64) (*rollsumResult, error) {
	oc, err := chunks(io.NewSectionReader(old, 0, oldSize))
	if err != nil {
		return nil, err
	}
	nc, err := chunks(io.NewSectionReader(new, 0, newSize))
	if err != nil {
		return nil, err
	}
	type key struct {
		crc  uint32
		size int64
	}
	byKey := make(map[key][]int64, len(oc))
	for _, c := range oc {
		k := key{c.crc, c.size}
		byKey[k] = append(byKey[k], c.off)
	}
	res := &rollsumResult{total: len(nc), size: newSize}
	a := make([]byte, maxChunk)
	b := make([]byte, maxChunk)
	for _, c := range nc {
		offs := byKey[key{c.crc, c.size}]
		if len(offs) == 0 {
			continue
		}
		if _, err := new.ReadAt(b[:c.size], c.off); err != nil {
			return nil, fmt.Errorf("rollsum: %w", err)
		}
		for _, o := range offs {
			if _, err := old.ReadAt(a[:c.size], o); err != nil {
				return nil, fmt.Errorf("rollsum: %w", err)
			}
			if bytes.Equal(a[:c.size], b[:c.size]) {
				res.matches = append(res.matches, match{toOff: c.off, fromOff: o, size: c.size})
				res.matched += c.size
				break
			}
		}
	}
	sort.Slice(res.matches, func(i, j int) bool { return res.matches[i].toOff < res.matches[j].toOff })
	return res, nil
}
