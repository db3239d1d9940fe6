package bisect_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/groveos/grove/core/bisect"
	"github.com/groveos/grove/core/bisect/bisecttest"
	"github.com/groveos/grove/core/oid"
)

func sampleState(t testing.TB) *bisect.State {
	t.Helper()
	s := &bisect.State{
		Terms:   bisect.Terms{Old: "fast", New: "slow"},
		Bad:     oid.Sum([]byte("bad")),
		Good:    []oid.Checksum{oid.Sum([]byte("g1")), oid.Sum([]byte("g2"))},
		Skip:    []oid.Checksum{oid.Sum([]byte("s"))},
		Current: oid.Sum([]byte("cur")),
		Log:     []string{"grove bisect start", "# status: waiting"},
		Admin: &bisect.Admin{Stateroot: "os", Deploy: true, Default: bisect.DeploymentID{Commit: oid.Sum([]byte("d")), Serial: 2},
			Pinned: []bisect.DeploymentID{{Commit: oid.Sum([]byte("p")), Serial: 0}}},
		Remote: "origin",
	}
	return s
}

// TestStateRoundTrip: what Marshal writes, Parse reads back unchanged.
func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	s := sampleState(t)
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := bisect.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := got.Marshal()
	if !bytes.Equal(b, b2) {
		t.Errorf("round trip differs:\n%s\n%s", b, b2)
	}
	if got.Admin.Default.Serial != 2 || got.Bad != s.Bad || len(got.Good) != 2 {
		t.Errorf("parsed %+v", got)
	}
}

// TestStateNonsense: files edited into nonsense are ErrBadState naming
// the problem, and Store.Load leaves the file as it was.
func TestStateNonsense(t *testing.T) {
	t.Parallel()
	good, err := sampleState(t).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sum := oid.Sum([]byte("bad")).String()
	edit := func(old, new string) string { return strings.Replace(string(good), old, new, 1) }
	cases := map[string]struct{ data, want string }{
		"empty":        {"", "EOF"},
		"not json":     {"bad=abc\n", "invalid character"},
		"truncated":    {string(good[:len(good)/2]), "unexpected EOF"},
		"version":      {edit(`"version": 1`, `"version": 7`), "version 7"},
		"no version":   {edit(`"version": 1,`, ``), "version 0"},
		"unknown":      {edit(`"version": 1,`, `"version": 1, "frob": true,`), "unknown field"},
		"short sum":    {edit(sum, sum[:20]), "is not a commit checksum"},
		"upper sum":    {edit(sum, strings.ToUpper(sum)), "is not a commit checksum"},
		"terms same":   {edit(`"new": "slow"`, `"new": "fast"`), "two different terms"},
		"term builtin": {edit(`"new": "slow"`, `"new": "run"`), "builtin command"},
		"both":         {edit(`"good": [`, `"good": ["`+sum+`",`), "marked both"},
		"twice":        {edit(`"skip": [`, `"skip": ["`+oid.Sum([]byte("s")).String()+`",`), "listed twice"},
		"multiline":    {edit(`"grove bisect start"`, `"grove bisect start\nrm -rf /"`), "spans lines"},
		"wrong type":   {edit(`"version": 1`, `"version": "1"`), "cannot unmarshal"},
		"trailing":     {string(good) + "{}", "data after"},
		"admin":        {edit(`"stateroot": "os"`, `"stateroot": ""`), "no stateroot"},
		"serial":       {edit(`"serial": 2`, `"serial": -2`), "negative"},
		"log null":     {edit(`"skip": [`, `"skip": null, "x": [`), "unknown field"},
		"remote":       {edit(`"remote": "origin"`, `"remote": "a/b"`), "remote \"a/b\""},
	}
	for name, c := range cases {
		_, err := bisect.Parse([]byte(c.data))
		if !errors.Is(err, bisect.ErrBadState) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrBadState with %q", name, err, c.want)
		}
	}
	// Through a store: the error names the file and how out; the file stays.
	dir := t.TempDir()
	store := bisect.StoreAt(dir)
	if err := os.MkdirAll(store.Dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	nonsense := []byte(cases["short sum"].data)
	if err := os.WriteFile(store.Path(), nonsense, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = store.Load()
	if !errors.Is(err, bisect.ErrBadState) || !strings.Contains(err.Error(), store.Path()) || !strings.Contains(err.Error(), "grove bisect reset") {
		t.Errorf("load: %v", err)
	}
	if b, _ := os.ReadFile(store.Path()); !bytes.Equal(b, nonsense) {
		t.Error("loading a nonsense state changed it")
	}
}

// TestStore: save, load, the lock, reset.
func TestStore(t *testing.T) {
	t.Parallel()
	r, h := history(t, bisecttest.Options{N: 8, K: 4})
	store := bisect.StoreAt(r.Path())
	if _, err := store.Load(); !errors.Is(err, bisect.ErrNotStarted) {
		t.Fatalf("load before start: %v", err)
	}
	st, _, err := bisect.Start(context.Background(), r, bisect.Terms{}, h.Commits[7], []oid.Checksum{h.Commits[0]})
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := store.Lock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Lock(); !errors.Is(err, bisect.ErrBusy) {
		t.Errorf("second lock: %v", err)
	}
	if err := store.Save(st); err != nil {
		t.Fatal(err)
	}
	unlock()
	got, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Current != st.Current || got.Bad != st.Bad {
		t.Errorf("loaded %+v", got)
	}
	entries, _ := os.ReadDir(store.Dir())
	for _, e := range entries {
		if e.Name() != "state.json" && e.Name() != "lock" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if err := os.MkdirAll(filepath.Join(store.ScratchDir(), "tree", "ro"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(store.ScratchDir(), "tree"), 0o555)
	if err := store.Remove(); err != nil {
		t.Fatal(err)
	}
	if store.Active() {
		t.Error("still active after Remove")
	}
	if _, err := os.Stat(store.Dir()); !os.IsNotExist(err) {
		t.Errorf("state/bisect left: %v", err)
	}
}

// FuzzParse: Parse never panics, and what it accepts survives a round
// trip through Marshal.
func FuzzParse(f *testing.F) {
	good, _ := sampleState(f).Marshal()
	f.Add(good)
	f.Add([]byte(`{"version":1,"terms":{"old":"good","new":"bad"},"good":[],"skip":[],"log":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := bisect.Parse(data)
		if err != nil {
			if !errors.Is(err, bisect.ErrBadState) {
				t.Fatalf("error without ErrBadState: %v", err)
			}
			return
		}
		b, err := s.Marshal()
		if err != nil {
			t.Fatalf("accepted state does not marshal: %v", err)
		}
		s2, err := bisect.Parse(b)
		if err != nil {
			t.Fatalf("marshalled state does not parse: %v\n%s", err, b)
		}
		b2, _ := s2.Marshal()
		if !bytes.Equal(b, b2) {
			t.Fatalf("not stable:\n%s\n%s", b, b2)
		}
	})
}
