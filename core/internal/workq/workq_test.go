package workq

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func TestHeapLargestFirst(t *testing.T) {
	h := NewHeap(func(x int) int64 { return int64(x) })
	in := rand.Perm(1000)
	for _, x := range in {
		h.Push(x)
	}
	for want := 999; want >= 0; want-- {
		if got := h.Pop(); got != want {
			t.Fatalf("Pop = %d, want %d", got, want)
		}
	}
	if h.Len() != 0 {
		t.Fatal("not empty")
	}
}

func TestHeapLIFO(t *testing.T) {
	h := NewHeap[string](nil)
	for _, s := range []string{"a", "b", "c"} {
		h.Push(s)
	}
	if got := []string{h.Pop(), h.Pop(), h.Pop()}; !slices.Equal(got, []string{"c", "b", "a"}) {
		t.Fatalf("got %v", got)
	}
}

func TestQueueDrainsAfterClose(t *testing.T) {
	q := NewQueue(func(x int) int64 { return int64(x) })
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				x, ok := q.Get()
				if !ok {
					return
				}
				mu.Lock()
				got = append(got, x)
				mu.Unlock()
			}
		})
	}
	for i := range 500 {
		q.Put(i)
	}
	q.Close()
	wg.Wait()
	slices.Sort(got)
	for i, x := range got {
		if x != i {
			t.Fatalf("item %d is %d (%d items)", i, x, len(got))
		}
	}
	if len(got) != 500 {
		t.Fatalf("%d items", len(got))
	}
}
