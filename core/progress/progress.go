package progress

import (
	"sync"
	"time"
)

// Event is a snapshot of a running operation. Counters only grow during
// one phase; Total and TotalBytes are 0 while unknown.
type Event struct {
	Phase      string // what is being done now: "scanning", "writing", "fetching", …
	Done       int64  // objects (or entries) done in this phase
	Total      int64  // objects expected; 0 when unknown
	Bytes      int64  // payload bytes moved so far
	TotalBytes int64  // bytes expected; 0 when unknown
	Item       string // optional: the object or path being worked on
	Final      bool   // the last event of the operation
}

// Func receives events. Implementations must be cheap or hand the event
// on; they may be called from several goroutines (one at a time).
type Func func(Event)

// Report calls f with e unless f is nil.
func (f Func) Report(e Event) {
	if f != nil {
		f(e)
	}
}

// Throttle returns a Func that passes on at most one event per interval
// (the newest one, dropped otherwise), the first event of every phase, and
// always the Final one, to f. It serialises calls, so f need not be safe
// for concurrent use.
func Throttle(interval time.Duration, f Func) Func {
	if f == nil {
		return nil
	}
	var (
		mu    sync.Mutex
		last  time.Time
		phase string
	)
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if !e.Final && e.Phase == phase && now.Sub(last) < interval {
			return
		}
		last, phase = now, e.Phase
		f(e)
	}
}
