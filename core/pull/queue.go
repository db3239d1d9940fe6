package pull

import (
	"container/heap"
	"sync"

	"github.com/groveos/grove/core/oid"
)

// jobQueue hands content objects to the workers largest first: the walk
// queues faster than objects are written, so the big files start early
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

// metaJob is a metadata object to scan: a commit (with the ref it was
// requested by and how many parents to follow) or a dirtree or dirmeta
// (with its path, for --subpath).
type metaJob struct {
	name   oid.ObjectName
	path   string // dirtree: "/usr/" (with the trailing slash)
	ref    string // commit: the ref it was requested by, "" for parents
	depth  int    // commit: parents still to follow, -1 for all
	parent bool   // commit: reached as a parent, not requested
}

// metaQueue is the scan queue: LIFO, so that the walk goes depth first
// and content is discovered (and fetched) early, as with a recursive walk;
// it closes itself when the last job is done (pending reaches zero).
type metaQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	jobs    []metaJob
	pending int // queued or being processed
}

func (q *metaQueue) init() { q.cond = sync.NewCond(&q.mu) }

func (q *metaQueue) put(j metaJob) {
	q.mu.Lock()
	q.jobs = append(q.jobs, j)
	q.pending++
	q.mu.Unlock()
	q.cond.Signal()
}

// get returns the next job; false once every job is done.
func (q *metaQueue) get() (metaJob, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.jobs) == 0 && q.pending > 0 {
		q.cond.Wait()
	}
	if len(q.jobs) == 0 {
		return metaJob{}, false
	}
	j := q.jobs[len(q.jobs)-1]
	q.jobs = q.jobs[:len(q.jobs)-1]
	return j, true
}

// done marks a job returned by get as finished (after it queued its
// children).
func (q *metaQueue) done() {
	q.mu.Lock()
	q.pending--
	last := q.pending == 0
	q.mu.Unlock()
	if last {
		q.cond.Broadcast()
	}
}
