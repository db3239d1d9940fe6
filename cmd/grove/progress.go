package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/textual"
)

// progressOutput turns engine progress events into what a verb shows: a
// one-line bar on a terminal (nothing when the output is piped) and, with
// --progress-fd=N, one JSON object per line on that descriptor for scripts
// and front ends.
type progressOutput struct {
	mu      sync.Mutex
	bar     io.Writer // the terminal, or nil
	label   string
	barLen  int // width of the last bar drawn
	jsonOut *json.Encoder
	start   time.Time
}

// progressLine is one --progress-fd record.
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

// newProgressOutput prepares the bar (when stdout is a terminal) and the
// JSON stream (when fd > 0). label names what is counted on the bar.
func newProgressOutput(label string, fd int) (*progressOutput, error) {
	p := &progressOutput{label: label, start: time.Now()}
	if term.IsTerminal(os.Stdout.Fd()) {
		p.bar = os.Stdout
	}
	if fd > 0 {
		f := os.NewFile(uintptr(fd), "progress-fd")
		if f == nil {
			return nil, fmt.Errorf("--progress-fd=%d: not an open descriptor", fd)
		}
		p.jsonOut = json.NewEncoder(f)
	}
	return p, nil
}

// Func is the engine-side callback, throttled to ten events a second
// (phase changes and the final event always pass).
func (p *progressOutput) Func() progress.Func {
	if p == nil || (p.bar == nil && p.jsonOut == nil) {
		return nil
	}
	return progress.Throttle(100*time.Millisecond, p.show)
}

func (p *progressOutput) show(e progress.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(e.Bytes) / elapsed
	}
	if p.jsonOut != nil {
		_ = p.jsonOut.Encode(progressLine{
			Phase: e.Phase, Done: e.Done, Total: e.Total, Bytes: e.Bytes, TotalBytes: e.TotalBytes,
			Rate: rate, Elapsed: elapsed, Final: e.Final,
		})
	}
	if p.bar == nil {
		return
	}
	if e.Final {
		p.clear()
		return
	}
	pct := ""
	if e.Total > 0 {
		pct = fmt.Sprintf("%d%% ", e.Done*100/e.Total)
	}
	line := fmt.Sprintf("%s: %s(%d/%d) %s %s/s", p.label, pct, e.Done, e.Total,
		textual.FormatSize(uint64(e.Bytes)), textual.FormatSize(uint64(rate)))
	pad := ""
	if n := p.barLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.bar, "\r%s%s", line, pad)
	p.barLen = len(line)
}

// clear erases the bar, before the verb prints its last words.
func (p *progressOutput) clear() {
	if p.bar != nil && p.barLen > 0 {
		fmt.Fprintf(p.bar, "\r%s\r", strings.Repeat(" ", p.barLen))
		p.barLen = 0
	}
}

// Done erases the bar if an error ended the operation before its final
// event.
func (p *progressOutput) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}
