package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/groveos/grove/core/progress"
)

func TestProgressJSONLines(t *testing.T) {
	var js bytes.Buffer
	var seen int
	f := bothProgress(jsonProgress(&js, time.Now().Add(-2*time.Second)), nil, func(progress.Event) { seen++ })
	f(progress.Event{Phase: "fetching", Done: 5, Total: 20, Bytes: 4000})
	f(progress.Event{Phase: "done", Done: 20, Total: 20, Bytes: 8000, Final: true})
	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	if len(lines) != 2 || seen != 2 {
		t.Fatalf("%d JSON lines, %d events seen", len(lines), seen)
	}
	var last progressLine
	if err := json.Unmarshal([]byte(lines[1]), &last); err != nil {
		t.Fatal(err)
	}
	if !last.Final || last.Done != 20 || last.Total != 20 || last.Bytes != 8000 || last.Rate < 1000 || last.Rate > 4000 || last.Phase != "done" {
		t.Errorf("last line %+v", last)
	}
	if bothProgress(nil, nil) != nil {
		t.Error("no consumers should give a nil Func")
	}
	if f, err := progressFD(0); f != nil || err != nil {
		t.Error("--progress-fd=0 wants events")
	}
}
