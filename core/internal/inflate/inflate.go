package inflate

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"sync"
	"unsafe"
)

// ErrCorrupt is returned for any stream the decoder refuses.
var ErrCorrupt = errors.New("inflate: bad deflate stream")

// Table entry layout: bits 0-4 bits to consume (primary bits for a link),
// bits 5-7 kind, bits 8-12 extra bits (or a link's subtable bits), bits
// 16-31 value (literal byte, base length/distance or subtable start).
const (
	kindLiteral = 0 << 5
	kindLength  = 1 << 5 // also distances, in distance tables
	kindEOB     = 2 << 5
	kindLink    = 3 << 5
	kindInvalid = 4 << 5
	kindMask    = 7 << 5

	litBits  = 10
	distBits = 8
	clBits   = 7

	// Table sizes: a power of two above the largest table the build can
	// make (zlib's "enough": 1334 for 286 symbols with 10 primary bits,
	// 402 for 30 symbols with 8), so that masked indexes need no bounds
	// checks.
	litTableSize  = 2048
	distTableSize = 512

	window   = 32 << 10
	maxMatch = 258
	// slack is the room kept after the write position: a whole match
	// plus the overshoot of 8-byte copies.
	slack = maxMatch + 16
)

var lengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
var lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
var distBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
var distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

// Order in which code length code lengths are stored.
var clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func litEntry(sym int) uint32 {
	switch {
	case sym < 256:
		return kindLiteral | uint32(sym)<<16
	case sym == 256:
		return kindEOB
	case sym < 286:
		i := sym - 257
		return kindLength | uint32(lengthExtra[i])<<8 | uint32(lengthBase[i])<<16
	}
	return kindInvalid
}

func distEntry(sym int) uint32 {
	if sym < 30 {
		return kindLength | uint32(distExtra[sym])<<8 | uint32(distBase[sym])<<16
	}
	return kindInvalid
}

func clEntry(sym int) uint32 { return kindLiteral | uint32(sym)<<16 }

// buildTable fills table (primary table of 1<<primary entries, subtables
// after it) for the code lengths lens. Like zlib, an incomplete code is
// accepted only when it has a single code of length 1 (and not for code
// length codes); an empty code makes a table of invalid entries.
func buildTable(table []uint32, lens []uint8, primary uint, entry func(int) uint32, allowIncomplete bool) error {
	var count [16]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	left := 1
	maxLen := 0
	for l := 1; l <= 15; l++ {
		left <<= 1
		left -= count[l]
		if left < 0 {
			return ErrCorrupt // over-subscribed
		}
		if count[l] > 0 {
			maxLen = l
		}
	}
	if left > 0 {
		// Empty or incomplete: entries no code reaches must be invalid.
		// (A complete code fills every entry below.)
		for i := range table[:1<<primary] {
			table[i] = kindInvalid
		}
		if maxLen == 0 {
			return nil
		}
		if !allowIncomplete || maxLen != 1 {
			return ErrCorrupt
		}
	}
	// Symbols sorted by (length, symbol): canonical code order.
	var offs [17]int
	for l := 1; l <= 15; l++ {
		offs[l+1] = offs[l] + count[l]
	}
	var sorted [288]uint16
	for s, l := range lens {
		if l != 0 {
			sorted[offs[l]] = uint16(s)
			offs[l]++
		}
	}
	n := offs[15] // all coded symbols, now offs[l] = end of length l
	end := 1 << primary
	code := 0 // canonical code, MSB first
	prevLen := 0
	subPrefix := -1
	subStart, subBits := 0, uint(0)
	for i := range n {
		s := int(sorted[i])
		l := int(lens[s])
		if l != prevLen {
			code <<= uint(l - prevLen)
			prevLen = l
		}
		rev := int(bits.Reverse16(uint16(code)) >> (16 - uint(l)))
		e := entry(s)
		if uint(l) <= primary {
			for k := rev; k < 1<<primary; k += 1 << uint(l) {
				table[k] = e | uint32(l)
			}
		} else {
			prefix := rev & (1<<primary - 1)
			if prefix != subPrefix {
				// New subtable, sized to hold the remaining codes that
				// share this prefix (zlib's method).
				subPrefix = prefix
				subBits = uint(l) - primary
				rem := 1 << subBits
				for int(subBits+primary) < maxLen {
					rem -= count[subBits+primary]
					if rem <= 0 {
						break
					}
					subBits++
					rem <<= 1
				}
				subStart = end
				end += 1 << subBits
				if end > len(table) || subStart >= 1<<16 {
					return ErrCorrupt
				}
				table[prefix] = kindLink | uint32(primary) | uint32(subBits)<<8 | uint32(subStart)<<16
			}
			sl := uint(l) - primary
			for k := rev >> primary; k < 1<<subBits; k += 1 << sl {
				table[subStart+k] = e | uint32(sl)
			}
		}
		count[l]--
		code++
	}
	return nil
}

var fixedOnce sync.Once
var fixedLit [litTableSize]uint32
var fixedDist [distTableSize]uint32

func fixedTables() (*[litTableSize]uint32, *[distTableSize]uint32) {
	fixedOnce.Do(func() {
		var lens [288]uint8
		for i := range lens {
			switch {
			case i < 144:
				lens[i] = 8
			case i < 256:
				lens[i] = 9
			case i < 280:
				lens[i] = 7
			default:
				lens[i] = 8
			}
		}
		if buildTable(fixedLit[:], lens[:], litBits, litEntry, false) != nil {
			panic("fsck: fixed literal table")
		}
		var dl [32]uint8
		for i := range dl {
			dl[i] = 5
		}
		if buildTable(fixedDist[:], dl[:], distBits, distEntry, false) != nil {
			panic("fsck: fixed distance table")
		}
	})
	return &fixedLit, &fixedDist
}

// Inflater is a reusable decoder; its zero value is ready. Not safe for
// concurrent use: keep one per goroutine.
type Inflater struct {
	lit  [litTableSize]uint32
	dist [distTableSize]uint32
	cl   [1 << clBits]uint32
	lens [288 + 32]uint8
	buf  []byte

	// Per call: out is buf, cut to size+slack when the whole object
	// fits (cut), which keeps the size check exact without sliding.
	out     []byte
	cut     bool
	pos     int
	flushed int   // out[:flushed] was emitted already
	done    int64 // bytes dropped from the front of out
	size    int64
	emit    func([]byte)
}

// bitReader is the input: a 64-bit buffer with nb valid bits, refilled
// from in[ip:]. Past the end it shifts in zero bytes and counts them in
// over; consuming any of them means the input was truncated.
type bitReader struct {
	in   []byte
	ip   int
	bb   uint64
	nb   uint
	over uint
}

func (b *bitReader) refill() {
	if b.ip+8 <= len(b.in) {
		b.bb |= binary.LittleEndian.Uint64(b.in[b.ip:]) << b.nb
		b.ip += int((63 - b.nb) >> 3)
		b.nb |= 56
		return
	}
	for b.nb <= 56 {
		if b.ip < len(b.in) {
			b.bb |= uint64(b.in[b.ip]) << b.nb
			b.ip++
		} else {
			b.over++
		}
		b.nb += 8
	}
}

// truncated reports whether bits past the end of the input were used.
func (b *bitReader) truncated() bool { return b.nb < b.over*8 }

func (b *bitReader) take(n uint) uint32 {
	v := uint32(b.bb & (1<<n - 1))
	b.bb >>= n
	b.nb -= n
	return v
}

// Inflate decodes src, which must produce exactly size bytes, passing the
// output to emit in pieces of at most bufSize bytes (each piece is valid
// only during the call). bufSize should be at least 64 KiB.
func (f *Inflater) Inflate(src []byte, size int64, bufSize int, emit func([]byte)) error {
	if cap(f.buf) < bufSize+window {
		f.buf = make([]byte, bufSize+window)
	}
	f.out = f.buf[:cap(f.buf)]
	f.cut = false
	if int64(len(f.out)) > size+slack {
		f.out = f.out[:size+slack]
		f.cut = true
	}
	f.pos, f.flushed, f.done, f.size, f.emit = 0, 0, 0, size, emit
	defer func() { f.emit = nil }()
	br := bitReader{in: src}
	for {
		br.refill()
		final := br.take(1)
		switch br.take(2) {
		case 0:
			if err := f.stored(&br); err != nil {
				return err
			}
		case 1:
			lt, dt := fixedTables()
			if err := f.block(&br, lt, dt); err != nil {
				return err
			}
		case 2:
			if err := f.dynamic(&br); err != nil {
				return err
			}
			if err := f.block(&br, &f.lit, &f.dist); err != nil {
				return err
			}
		default:
			return ErrCorrupt
		}
		if br.truncated() || int64(f.pos)+f.done > size {
			return ErrCorrupt
		}
		if final == 1 {
			break
		}
	}
	if int64(f.pos)+f.done != size {
		return ErrCorrupt
	}
	if f.pos > f.flushed {
		emit(f.out[f.flushed:f.pos])
	}
	return nil
}

// slide emits what out holds and keeps the last window for matches.
func (f *Inflater) slide() error {
	if f.cut {
		return ErrCorrupt // more output than the declared size
	}
	f.emit(f.out[f.flushed:f.pos])
	copy(f.out, f.out[f.pos-window:f.pos])
	f.done += int64(f.pos - window)
	f.pos, f.flushed = window, window
	if f.done+window > f.size {
		return ErrCorrupt
	}
	return nil
}

func (f *Inflater) stored(br *bitReader) error {
	// Drop bits to the byte boundary, then give back the whole bytes
	// still in the bit buffer.
	br.bb >>= br.nb & 7
	br.nb &^= 7
	back := int(br.nb/8) - int(br.over)
	if back < 0 {
		return ErrCorrupt
	}
	src := br.in
	ip := br.ip - back
	br.bb, br.nb, br.over = 0, 0, 0
	if ip+4 > len(src) {
		return ErrCorrupt
	}
	n := int(binary.LittleEndian.Uint16(src[ip:]))
	if uint16(n) != ^binary.LittleEndian.Uint16(src[ip+2:]) {
		return ErrCorrupt
	}
	ip += 4
	if ip+n > len(src) {
		return ErrCorrupt
	}
	data := src[ip : ip+n]
	br.ip = ip + n
	for len(data) > 0 {
		if f.pos == len(f.out) {
			if err := f.slide(); err != nil {
				return err
			}
		}
		c := copy(f.out[f.pos:], data)
		f.pos += c
		data = data[c:]
	}
	return nil
}

// dynamic reads a dynamic block's code lengths and builds f.lit, f.dist.
func (f *Inflater) dynamic(br *bitReader) error {
	br.refill()
	nlit := int(br.take(5)) + 257
	ndist := int(br.take(5)) + 1
	ncl := int(br.take(4)) + 4
	if nlit > 286 || ndist > 30 {
		return ErrCorrupt
	}
	var cll [19]uint8
	for i := range ncl {
		br.refill()
		cll[clOrder[i]] = uint8(br.take(3))
	}
	if err := buildTable(f.cl[:], cll[:], clBits, clEntry, false); err != nil {
		return err
	}
	lens := f.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		br.refill()
		if br.truncated() {
			return ErrCorrupt
		}
		e := f.cl[br.bb&(1<<clBits-1)]
		if e&kindMask != kindLiteral {
			return ErrCorrupt
		}
		br.take(uint(e & 31))
		sym := e >> 16
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var v uint8
		switch sym {
		case 16:
			if i == 0 {
				return ErrCorrupt
			}
			v = lens[i-1]
			rep = 3 + int(br.take(2))
		case 17:
			rep = 3 + int(br.take(3))
		default:
			rep = 11 + int(br.take(7))
		}
		if i+rep > len(lens) {
			return ErrCorrupt
		}
		for range rep {
			lens[i] = v
			i++
		}
	}
	if br.truncated() || lens[256] == 0 {
		return ErrCorrupt
	}
	if err := buildTable(f.lit[:], lens[:nlit], litBits, litEntry, true); err != nil {
		return err
	}
	return buildTable(f.dist[:], lens[nlit:], distBits, distEntry, true)
}

// block decodes one Huffman-coded block. Every iteration starts with
// slack bytes of room in out (sliding the window when needed) and, on the
// fast refill, 8 readable input bytes at ip: the loop reads and writes
// through unsafe pointers within those bounds, which frees the registers
// and branches that slice bounds checks cost in the hottest loop of
// checking an archive repository. The invariants are local: pos <= limit
// at the top; a match writes at most maxMatch+15 < slack bytes; dist <=
// pos is checked before copying.
func (f *Inflater) block(br *bitReader, lt *[litTableSize]uint32, dt *[distTableSize]uint32) error {
	// Locals only (no deferred closure), so that they stay in registers.
	op := unsafe.Pointer(unsafe.SliceData(f.out))
	limit := len(f.out) - slack
	pos := f.pos
	bb, nb, ip := br.bb, br.nb, br.ip
	inp := unsafe.Pointer(unsafe.SliceData(br.in))
	inFast := len(br.in) - 8
	var err error
	for {
		if pos > limit {
			f.pos = pos
			if err = f.slide(); err != nil {
				break
			}
			pos = f.pos
		}
		// Refill: at least 56 bits, enough for a length and a distance
		// with their extra bits.
		if ip <= inFast {
			bb |= binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(inp, ip))[:]) << nb
			ip += int((63 - nb) >> 3)
			nb |= 56
		} else {
			br.bb, br.nb, br.ip = bb, nb, ip
			br.refill()
			bb, nb, ip = br.bb, br.nb, br.ip
			if nb < br.over*8 {
				err = ErrCorrupt
				break
			}
		}
		e := lt[bb&(1<<litBits-1)]
		if e&kindMask == kindLiteral {
			bb >>= e & 31
			nb -= uint(e & 31)
			*(*byte)(unsafe.Add(op, pos)) = byte(e >> 16)
			pos++
			// Two more literals without a refill (41 bits remain,
			// primary-table literals take at most 10).
			e = lt[bb&(1<<litBits-1)]
			if e&kindMask != kindLiteral {
				continue
			}
			bb >>= e & 31
			nb -= uint(e & 31)
			*(*byte)(unsafe.Add(op, pos)) = byte(e >> 16)
			pos++
			e = lt[bb&(1<<litBits-1)]
			if e&kindMask != kindLiteral {
				continue
			}
			bb >>= e & 31
			nb -= uint(e & 31)
			*(*byte)(unsafe.Add(op, pos)) = byte(e >> 16)
			pos++
			continue
		}
		if e&kindMask == kindLink {
			bb >>= litBits
			nb -= litBits
			e = lt[((e>>16)+uint32(bb&(1<<((e>>8)&31)-1)))&(litTableSize-1)]
		}
		bb >>= e & 31
		nb -= uint(e & 31)
		switch e & kindMask {
		case kindLiteral:
			*(*byte)(unsafe.Add(op, pos)) = byte(e >> 16)
			pos++
			continue
		case kindEOB:
			if nb < br.over*8 {
				err = ErrCorrupt
			}
		case kindLength:
		default:
			err = ErrCorrupt
		}
		if e&kindMask != kindLength {
			break
		}
		eb := (e >> 8) & 31
		length := int(e>>16) + int(bb&(1<<eb-1))
		bb >>= eb
		nb -= uint(eb)
		d := dt[bb&(1<<distBits-1)]
		if d&kindMask == kindLink {
			bb >>= distBits
			nb -= distBits
			d = dt[((d>>16)+uint32(bb&(1<<((d>>8)&31)-1)))&(distTableSize-1)]
		}
		bb >>= d & 31
		nb -= uint(d & 31)
		if d&kindMask != kindLength {
			err = ErrCorrupt
			break
		}
		eb = (d >> 8) & 31
		dist := int(d>>16) + int(bb&(1<<eb-1))
		bb >>= eb
		nb -= uint(eb)
		if dist > pos {
			err = ErrCorrupt
			break
		}
		if dist >= 8 && length <= 16 {
			// Most matches: two 8-byte moves, reading only bytes
			// already written (dist >= 8); the second may overshoot
			// into the slack.
			dst, src := unsafe.Add(op, pos), unsafe.Add(op, pos-dist)
			*(*[8]byte)(dst) = *(*[8]byte)(src)
			*(*[8]byte)(unsafe.Add(dst, 8)) = *(*[8]byte)(unsafe.Add(src, 8))
		} else if dist >= length {
			copy(unsafe.Slice((*byte)(unsafe.Add(op, pos)), length), unsafe.Slice((*byte)(unsafe.Add(op, pos-dist)), length))
		} else if dist >= 8 {
			dst, src := unsafe.Add(op, pos), unsafe.Add(op, pos-dist)
			for i := 0; i < length; i += 8 {
				*(*[8]byte)(unsafe.Add(dst, i)) = *(*[8]byte)(unsafe.Add(src, i))
			}
		} else {
			copyMatch(f.out, pos, dist, length)
		}
		pos += length
	}
	f.pos = pos
	br.bb, br.nb, br.ip = bb, nb, ip
	return err
}

// copyMatch copies length bytes from dist back, overlapping like LZ77.
// It may write up to 15 bytes past pos+length.
func copyMatch(out []byte, pos, dist, length int) {
	src := pos - dist
	if dist >= 8 {
		// 8-byte steps read only bytes already written when dist >= 8;
		// the last step may overshoot into the slack.
		if length <= 16 {
			binary.LittleEndian.PutUint64(out[pos:], binary.LittleEndian.Uint64(out[src:]))
			binary.LittleEndian.PutUint64(out[pos+8:], binary.LittleEndian.Uint64(out[src+8:]))
			return
		}
		if dist >= length {
			copy(out[pos:pos+length], out[src:src+length])
			return
		}
		for i := 0; i < length; i += 8 {
			binary.LittleEndian.PutUint64(out[pos+i:], binary.LittleEndian.Uint64(out[src+i:]))
		}
		return
	}
	if dist >= length {
		copy(out[pos:pos+length], out[src:src+length])
		return
	}
	if dist == 1 {
		b := out[src]
		o := out[pos : pos+length]
		for i := range o {
			o[i] = b
		}
		return
	}
	// Doubling copies: each reads only bytes already written.
	for k := 0; k < length; {
		k += copy(out[pos+k:pos+length], out[src:pos+k])
	}
}
