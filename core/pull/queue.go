package pull

import (
	"container/heap"
	"context"
	"sync"

	"github.com/groveos/grove/core/oid"
)

// jobQueue hands content objects to the workers largest first: the walk
// queues faster than objects are compressed, so the big files start early
// instead of being the single-threaded tail of the pull. It is unbounded
// (a few dozen bytes per object), so the walk never waits.
type jobQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	h      jobHeap
	closed bool
}

type job struct {
	sum  oid.Checksum
	size int64
}

type jobHeap []job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].size > h[j].size }
func (h jobHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *jobHeap) Push(x any)        { *h = append(*h, x.(job)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	*h = old[:len(old)-1]
	return j
}

func (q *jobQueue) init() { q.cond = sync.NewCond(&q.mu) }

func (q *jobQueue) put(sum oid.Checksum, size int64) {
	q.mu.Lock()
	heap.Push(&q.h, job{sum, size})
	q.mu.Unlock()
	q.cond.Signal()
}

// get returns the largest queued object; false once closed and drained.
func (q *jobQueue) get() (job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.h) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.h) == 0 {
		return job{}, false
	}
	return heap.Pop(&q.h).(job), true
}

func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// sizeHint is the size of the source's loose object (compressed for
// archive sources, which is as good for ordering); 0 when unknown.
func (p *puller) sizeHint(ctx context.Context, name oid.ObjectName) int64 {
	size, err := p.src.StoredSize(ctx, name)
	if err != nil {
		return 0
	}
	return size
}
