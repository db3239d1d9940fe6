package progress

import (
	"testing"
	"time"
)

func TestNilFuncReport(t *testing.T) {
	var f Func
	f.Report(Event{Phase: "x"}) // must not panic
}

func TestThrottle(t *testing.T) {
	var got []Event
	th := Throttle(time.Hour, func(e Event) { got = append(got, e) })
	th(Event{Phase: "scan", Done: 1})  // first of phase: passes
	th(Event{Phase: "scan", Done: 2})  // throttled
	th(Event{Phase: "write", Done: 1}) // new phase: passes
	th(Event{Phase: "write", Done: 2}) // throttled
	th(Event{Phase: "write", Done: 3, Final: true})
	want := []int64{1, 1, 3}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d", len(got), got, len(want))
	}
	for i, e := range got {
		if e.Done != want[i] {
			t.Errorf("event %d: Done %d, want %d", i, e.Done, want[i])
		}
	}
	if !got[2].Final {
		t.Error("final event lost")
	}
	if Throttle(time.Second, nil) != nil {
		t.Error("Throttle(nil) should stay nil")
	}
}
