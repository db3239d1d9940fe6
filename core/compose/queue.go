package compose

import (
	"container/heap"
	"sync"
)

// jobQueue hands regular files to the workers largest first. The walk
// lists files far faster than they are hashed and compressed, so the big
// ones start early instead of being the single-threaded tail of a commit
// (the bench tree's 50 MB apt list). It is unbounded, so the walk never
// waits; a queued file costs a few hundred bytes.
type jobQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	h      jobHeap
	closed bool
}

type jobHeap []fileJob

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].st.Size > h[j].st.Size }
func (h jobHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *jobHeap) Push(x any)        { *h = append(*h, x.(fileJob)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	*h = old[:len(old)-1]
	return j
}

func (q *jobQueue) init() { q.cond = sync.NewCond(&q.mu) }

func (q *jobQueue) put(j fileJob) {
	q.mu.Lock()
	heap.Push(&q.h, j)
	q.mu.Unlock()
	q.cond.Signal()
}

// get returns the largest queued file; false once closed and drained.
func (q *jobQueue) get() (fileJob, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.h) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.h) == 0 {
		return fileJob{}, false
	}
	return heap.Pop(&q.h).(fileJob), true
}

func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
