package repo

import (
	"bytes"
	"fmt"
	"hash"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/flate"
)

// A large file is compressed on every core, pigz-style: it is cut into
// chunks, each deflated on its own with the previous 32 KiB as preset
// dictionary (so matches still reach back across the cut) and ended by a
// sync flush (an empty stored block that leaves the stream byte-aligned),
// the last one by the final block. The concatenation is one valid raw
// DEFLATE stream that any inflater reads, ostree's included; it is a few
// bytes per chunk longer than a serial one.
const (
	parallelDeflateMin   = 16 << 20
	parallelDeflateChunk = 4 << 20
	deflateWindow        = 32 << 10
)

// dictDeflaters keeps writers that have held a preset dictionary apart
// from the plain ones: Reset would bring the dictionary back.
var dictDeflaters [10]sync.Pool

type deflateChunk struct {
	data, dict []byte
	dictBuf    [deflateWindow]byte
	last       bool
	out        *bytes.Buffer
	err        error
	done       chan struct{}
}

// Chunk buffers are pooled: fresh megabytes for every chunk of every big
// file cost more in page faults than the compression gained.
var (
	chunkBufs = sync.Pool{New: func() any { b := make([]byte, parallelDeflateChunk); return &b }}
	outBufs   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// deflateParallel reads exactly size bytes from src, hashing them into h
// in order, and writes their compression to dst.
func (r *Repo) deflateParallel(dst io.Writer, h hash.Hash, src io.Reader, size int64) error {
	inflight := make(chan *deflateChunk, runtime.GOMAXPROCS(0))
	readErr := make(chan error, 1)
	go func() {
		defer close(inflight)
		tail := make([]byte, 0, deflateWindow)
		for off := int64(0); ; {
			n := min(int64(parallelDeflateChunk), size-off)
			data := (*chunkBufs.Get().(*[]byte))[:n]
			if _, err := io.ReadFull(src, data); err != nil {
				readErr <- fmt.Errorf("repo: content size changed while reading: %w", err)
				return
			}
			h.Write(data)
			off += n
			c := &deflateChunk{data: data, last: off == size, done: make(chan struct{})}
			c.out = outBufs.Get().(*bytes.Buffer)
			// The dictionary is the previous chunk's tail, copied while
			// that chunk was still ours: its buffer goes back to the pool
			// as soon as it is written out.
			c.dict = append(c.dictBuf[:0], tail...)
			tail = append(tail[:0], data[max(0, len(data)-deflateWindow):]...)
			if c.last {
				// One more byte would mean the file grew since its stat.
				var extra [1]byte
				if m, _ := src.Read(extra[:]); m > 0 {
					readErr <- fmt.Errorf("repo: content size changed while reading: more than %d bytes", size)
					return
				}
			}
			go r.deflateChunk(c)
			inflight <- c
			if c.last {
				readErr <- nil
				return
			}
		}
	}()
	var werr error
	for c := range inflight {
		<-c.done
		if werr == nil {
			werr = c.err
		}
		if werr == nil {
			_, werr = dst.Write(c.out.Bytes())
		}
		c.out.Reset()
		outBufs.Put(c.out)
		data := c.data[:cap(c.data)]
		chunkBufs.Put(&data)
	}
	if err := <-readErr; err != nil {
		return err
	}
	return werr
}

func (r *Repo) deflateChunk(c *deflateChunk) {
	defer close(c.done)
	c.out.Grow(len(c.data) / 2)
	zw, ok := dictDeflaters[r.zlibLevel].Get().(*flate.Writer)
	if ok {
		zw.ResetDict(c.out, c.dict)
	} else {
		var err error
		if zw, err = flate.NewWriterDict(c.out, r.zlibLevel, c.dict); err != nil {
			c.err = err
			return
		}
	}
	defer func() {
		zw.ResetDict(io.Discard, nil)
		dictDeflaters[r.zlibLevel].Put(zw)
	}()
	if _, err := zw.Write(c.data); err != nil {
		c.err = err
		return
	}
	if c.last {
		c.err = zw.Close()
	} else {
		c.err = zw.Flush()
	}
}
