package pull

import (
	"sync"

	"github.com/groveos/grove/core/internal/workq"
	"github.com/groveos/grove/core/oid"
)

// job is a content object to store and its size hint: the workers take
// the largest first (core/internal/workq), since the walk queues faster
// than objects are written and the big files should start early instead
// of being the single-threaded tail of the pull. The queue is unbounded
// (a few dozen bytes per object), so the walk never waits.
type job struct {
	sum  oid.Checksum
	size int64
}

func newJobQueue() *workq.Queue[job] { return workq.NewQueue(func(j job) int64 { return j.size }) }

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
	jobs    *workq.Heap[metaJob] // LIFO
	pending int                  // queued or being processed
}

func (q *metaQueue) init() {
	q.cond = sync.NewCond(&q.mu)
	q.jobs = workq.NewHeap[metaJob](nil)
}

func (q *metaQueue) put(j metaJob) {
	q.mu.Lock()
	q.jobs.Push(j)
	q.pending++
	q.mu.Unlock()
	q.cond.Signal()
}

// get returns the next job; false once every job is done.
func (q *metaQueue) get() (metaJob, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.jobs.Len() == 0 && q.pending > 0 {
		q.cond.Wait()
	}
	if q.jobs.Len() == 0 {
		return metaJob{}, false
	}
	return q.jobs.Pop(), true
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
