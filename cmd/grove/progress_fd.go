package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/groveos/grove/core/progress"
)

// progressLine is one --progress-fd record: a JSON object per line, for
// scripts and front ends.
type progressLine struct {
	Phase      string  `json:"phase"`
	Done       int64   `json:"done"`
	Total      int64   `json:"total"`
	Bytes      int64   `json:"bytes"`
	TotalBytes int64   `json:"total_bytes,omitempty"`
	Rate       float64 `json:"rate"` // bytes per second since the start
	Elapsed    float64 `json:"elapsed"`
	Final      bool    `json:"final,omitempty"`
}

// progressFD returns a Func writing JSON lines to descriptor fd (none for
// fd ≤ 0), five times a second at most (phase changes and the final
// event always pass).
func progressFD(fd int) (progress.Func, error) {
	if fd <= 0 {
		return nil, nil
	}
	f := os.NewFile(uintptr(fd), "progress-fd")
	if f == nil {
		return nil, fmt.Errorf("--progress-fd=%d: not an open descriptor", fd)
	}
	return progress.Throttle(200*time.Millisecond, jsonProgress(f, time.Now())), nil
}

func jsonProgress(w io.Writer, start time.Time) progress.Func {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return func(e progress.Event) {
		mu.Lock()
		defer mu.Unlock()
		elapsed := time.Since(start).Seconds()
		rate := 0.0
		if elapsed > 0 {
			rate = float64(e.Bytes) / elapsed
		}
		_ = enc.Encode(progressLine{
			Phase: e.Phase, Done: e.Done, Total: e.Total, Bytes: e.Bytes, TotalBytes: e.TotalBytes,
			Rate: rate, Elapsed: elapsed, Final: e.Final,
		})
	}
}

// bothProgress sends each event to every non-nil Func.
func bothProgress(fs ...progress.Func) progress.Func {
	var live []progress.Func
	for _, f := range fs {
		if f != nil {
			live = append(live, f)
		}
	}
	switch len(live) {
	case 0:
		return nil
	case 1:
		return live[0]
	}
	return func(e progress.Event) {
		for _, f := range live {
			f(e)
		}
	}
}
