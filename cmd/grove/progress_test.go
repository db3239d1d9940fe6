package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/progress"
)

func TestProgressOutput(t *testing.T) {
	var bar, js bytes.Buffer
	p := &progressOutput{label: "Receiving objects", bar: &bar, jsonOut: json.NewEncoder(&js), start: time.Now().Add(-2 * time.Second)}
	p.show(progress.Event{Phase: "fetching", Done: 5, Total: 20, Bytes: 4000})
	p.show(progress.Event{Phase: "fetching", Done: 20, Total: 20, Bytes: 8000})
	if got := bar.String(); !strings.HasPrefix(got, "\rReceiving objects: 25% (5/20) 4.0\u00a0kB ") || !strings.Contains(got, "\rReceiving objects: 100% (20/20) 8.0\u00a0kB") {
		t.Errorf("bar %q", got)
	}
	p.show(progress.Event{Phase: "done", Done: 20, Total: 20, Bytes: 8000, Final: true})
	if !strings.HasSuffix(bar.String(), "\r") || p.barLen != 0 {
		t.Errorf("final event did not clear the bar: %q", bar.String())
	}
	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d JSON lines", len(lines))
	}
	var last progressLine
	if err := json.Unmarshal([]byte(lines[2]), &last); err != nil {
		t.Fatal(err)
	}
	if !last.Final || last.Done != 20 || last.Bytes != 8000 || last.Rate < 1000 || last.Rate > 4000 {
		t.Errorf("last line %+v", last)
	}
	// Piped, with no --progress-fd: no callback at all.
	if (&progressOutput{}).Func() != nil {
		t.Error("a silent progress output still wants events")
	}
}
