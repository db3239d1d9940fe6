package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/sysroottest"
)

// bg is a command running in the background with its output collected.
type bg struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (b *bg) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

func (b *bg) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

func start(t *testing.T, bin string, args ...string) *bg {
	t.Helper()
	b := &bg{cmd: exec.Command(bin, args...), done: make(chan error, 1)}
	b.cmd.Env = append(os.Environ(), adminEnv...)
	b.cmd.Stdout, b.cmd.Stderr = b, b
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- b.cmd.Wait() }()
	t.Cleanup(func() { b.cmd.Process.Kill() })
	return b
}

// poll checks cond every millisecond until it holds or the deadline
// passes (fast enough to catch ostree between taking a lock and exiting).
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (b *bg) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-b.done:
		if err != nil {
			t.Fatalf("%s: %v\n%s", b.cmd.Path, err, b.output())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not finish:\n%s", b.cmd.Path, b.output())
	}
}

// The sysroot lock (ostree/lock) excludes grove and ostree from each
// other in both directions.
func TestAdminLockSharedWithOstree(t *testing.T) {
	t.Parallel()
	p := newPair(t)
	p.commit("v1", testRef, "1.0.9", sysroottest.Tree{})
	p.both("deploy", "--os=testos", testRef)
	ctx := context.Background()

	// A lock held through grove's core makes both tools wait.
	s, err := sysroot.Open(ctx, p.grove, sysroot.Options{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	o := start(t, p.ostreeBin, "admin", "--sysroot="+p.grove, "pin", "0")
	g := start(t, groveBin, "admin", "--sysroot="+p.grove, "kargs", "edit-in-place", "--append-if-missing=quiet")
	poll(t, "ostree to wait for the lock", func() bool { return strings.Contains(o.output(), "Waiting for sysroot lock...") })
	poll(t, "grove to wait for the lock", func() bool { return strings.Contains(g.output(), "Waiting for sysroot lock...") })
	if strings.Contains(mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "status"), "Pinned") {
		t.Fatal("ostree pinned while the lock was held")
	}
	s.Unlock()
	o.wait(t)
	g.wait(t)
	status := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status")
	entry, _ := os.ReadFile(filepath.Join(p.grove, "boot/loader/entries/ostree-1-testos.conf"))
	if !strings.Contains(status, "Pinned: yes") || !strings.Contains(string(entry), " quiet") {
		t.Fatalf("after the lock was released:\n%s\n%s", status, entry)
	}

	// ostree holding the lock (stopped in the middle of a deploy of a
	// larger tree) makes grove wait until it is done.
	files := map[string]string{}
	for i := 0; i < 800; i++ {
		files[fmt.Sprintf("usr/share/many/d%02d/f%04d", i%30, i)] = fmt.Sprintf("file %d\n", i)
	}
	p.commit("big", testRef, "1.1", sysroottest.Tree{Files: files})
	for attempt := 0; ; attempt++ {
		if attempt == 10 {
			t.Fatal("never caught ostree holding the lock")
		}
		probe, err := sysroot.Open(ctx, p.grove, sysroot.Options{})
		if err != nil {
			t.Fatal(err)
		}
		o := start(t, p.ostreeBin, "admin", "--sysroot="+p.grove, "deploy", "--os=testos", "--retain", testRef)
		held := false
		poll(t, "ostree to take the lock or finish", func() bool {
			select {
			case err := <-o.done:
				o.done <- err
				return true
			default:
			}
			ok, _ := probe.TryLock()
			if ok {
				probe.Unlock()
				return false
			}
			o.cmd.Process.Signal(syscall.SIGSTOP)
			if ok, _ := probe.TryLock(); ok { // released just before the stop
				probe.Unlock()
				o.cmd.Process.Signal(syscall.SIGCONT)
				return false
			}
			held = true
			return true
		})
		if !held {
			o.wait(t)
			continue
		}
		g := start(t, groveBin, "admin", "--sysroot="+p.grove, "pin", "0")
		poll(t, "grove to wait for ostree's lock", func() bool { return strings.Contains(g.output(), "Waiting for sysroot lock...") })
		o.cmd.Process.Signal(syscall.SIGCONT)
		o.wait(t)
		g.wait(t)
		break
	}
	got := mustRun(t, nil, groveBin, "admin", "--sysroot="+p.grove, "status")
	if want := mustRun(t, nil, p.ostreeBin, "admin", "--sysroot="+p.grove, "status"); got != want || !strings.Contains(got, "Version: 1.1") {
		t.Fatalf("grove\n%s\nostree\n%s", got, want)
	}
}
