package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/groveos/grove/core/progress"
	"github.com/groveos/grove/core/textual"
	"golang.org/x/sys/unix"
)

// progressBar draws the engine's progress events as one line on stderr,
// at most ten times a second, when stderr is a terminal; piped or
// redirected, it returns a nil Func and the output stays ostree's. Call
// done when the operation ends: it clears the line.
func progressBar(title string) (report progress.Func, done func()) {
	fd := int(os.Stderr.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return nil, func() {}
	}
	width := 80
	if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
		width = int(ws.Col)
	}
	b := &bar{w: os.Stderr, title: title, width: width, start: time.Now()}
	return progress.Throttle(100*time.Millisecond, b.draw), b.clear
}

type bar struct {
	mu    sync.Mutex
	w     io.Writer
	title string
	width int
	start time.Time
	drawn bool
}

func (b *bar) draw(e progress.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	line := b.title + ": " + e.Phase
	switch {
	case e.Total > 0:
		pct := int(e.Done * 100 / e.Total)
		cells := 20
		fill := cells * pct / 100
		line += fmt.Sprintf(" [%s%s] %d/%d", strings.Repeat("#", fill), strings.Repeat(" ", cells-fill), e.Done, e.Total)
	case e.Done > 0:
		line += fmt.Sprintf(" %d", e.Done)
	}
	if e.Bytes > 0 {
		line += " " + textual.FormatSize(uint64(e.Bytes))
		if secs := time.Since(b.start).Seconds(); secs > 0.5 {
			line += " (" + textual.FormatSize(uint64(float64(e.Bytes)/secs)) + "/s)"
		}
	}
	if r := []rune(line); len(r) > b.width-1 {
		line = string(r[:b.width-1])
	}
	fmt.Fprintf(b.w, "\r\x1b[K%s", line)
	b.drawn = true
}

func (b *bar) clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
		b.drawn = false
	}
}
