package sysroot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockFile is a held ostree/lock.
type lockFile struct {
	f    *os.File
	path string
}

// Lock takes the exclusive sysroot lock, ostree/lock, the way libglnx
// does (an open-file-description write lock on the whole file, retried
// when the previous holder unlinked the file), so a Grove admin command
// and `ostree admin` exclude each other. While another process holds it,
// waiting is called once and then every 3 seconds (`ostree admin` prints
// "Waiting for sysroot lock..."). Unlock releases it.
func (s *Sysroot) Lock(ctx context.Context, waiting func()) error {
	if s.lock != nil {
		return nil
	}
	p := s.abs("ostree/lock")
	var last time.Time
	for {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return fmt.Errorf("sysroot: lock %s: %w", p, err)
		}
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
		err = unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
		if err == nil {
			var st unix.Stat_t
			if err := unix.Fstat(int(f.Fd()), &st); err != nil {
				f.Close()
				return fmt.Errorf("sysroot: lock %s: %w", p, err)
			}
			if st.Nlink > 0 {
				s.lock = &lockFile{f: f, path: p}
				return nil
			}
			f.Close() // the previous owner removed it: lock the new file
			continue
		}
		f.Close()
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EACCES) {
			return fmt.Errorf("sysroot: lock %s: %w", p, err)
		}
		if waiting != nil && time.Since(last) >= 3*time.Second {
			waiting()
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TryLock takes the lock if it is free; it reports whether it did.
func (s *Sysroot) TryLock() (bool, error) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Lock(ctx, nil)
	if errors.Is(err, context.Canceled) {
		return false, nil
	}
	return err == nil, err
}

// Unlock releases the sysroot lock (unlinking ostree/lock first, as the
// exclusive owner may).
func (s *Sysroot) Unlock() {
	if s.lock == nil {
		return
	}
	os.Remove(s.lock.path)
	s.lock.f.Close()
	s.lock = nil
}

// Locked reports whether this Sysroot holds the lock.
func (s *Sysroot) Locked() bool { return s.lock != nil }
