package workq

import "sync"

// Heap is a max-heap of items ordered by prio, or a LIFO stack when prio
// is nil (depth-first work, whose memory stays small). Not synchronised.
type Heap[T any] struct {
	items []T
	prio  func(T) int64
}

// NewHeap returns an empty heap ordered by prio (nil: LIFO).
func NewHeap[T any](prio func(T) int64) *Heap[T] { return &Heap[T]{prio: prio} }

// Len is the number of items.
func (h *Heap[T]) Len() int { return len(h.items) }

// Push adds an item.
func (h *Heap[T]) Push(x T) {
	h.items = append(h.items, x)
	if h.prio == nil {
		return
	}
	i := len(h.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h.prio(h.items[p]) >= h.prio(h.items[i]) {
			break
		}
		h.items[p], h.items[i] = h.items[i], h.items[p]
		i = p
	}
}

// Pop removes and returns the item of highest prio (the newest for a
// stack); the heap must not be empty.
func (h *Heap[T]) Pop() T {
	n := len(h.items) - 1
	if h.prio == nil {
		x := h.items[n]
		h.items = h.items[:n]
		return x
	}
	top := h.items[0]
	h.items[0] = h.items[n]
	var zero T
	h.items[n] = zero
	h.items = h.items[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.prio(h.items[l]) > h.prio(h.items[m]) {
			m = l
		}
		if r < n && h.prio(h.items[r]) > h.prio(h.items[m]) {
			m = r
		}
		if m == i {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return top
}

// Queue is a Heap for worker pools: Put never blocks, Get waits for an
// item and reports false once the queue is closed and drained.
type Queue[T any] struct {
	mu     sync.Mutex
	cond   sync.Cond
	h      Heap[T]
	closed bool
}

// NewQueue returns an open queue ordered by prio (nil: LIFO).
func NewQueue[T any](prio func(T) int64) *Queue[T] {
	q := &Queue[T]{h: Heap[T]{prio: prio}}
	q.cond.L = &q.mu
	return q
}

// Put queues an item.
func (q *Queue[T]) Put(x T) {
	q.mu.Lock()
	q.h.Push(x)
	q.mu.Unlock()
	q.cond.Signal()
}

// Get returns the next item, waiting for one; false once closed and
// drained.
func (q *Queue[T]) Get() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.h.Len() == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.h.Len() == 0 {
		var zero T
		return zero, false
	}
	return q.h.Pop(), true
}

// Close wakes every waiting Get; queued items are still handed out.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
