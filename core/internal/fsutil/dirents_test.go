package fsutil

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReadDirentsMatchesStat lists a directory that needs several getdents
// calls (long names, more than one buffer) and checks every name, inode
// number and type against lstat.
func TestReadDirentsMatchesStat(t *testing.T) {
	dir := t.TempDir()
	want := map[string]uint8{}
	for i := 0; i < 1500; i++ {
		name := fmt.Sprintf("%04d-%s", i, strings.Repeat("x", 100))
		switch i % 3 {
		case 0:
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			want[name] = unix.DT_REG
		case 1:
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
			want[name] = unix.DT_DIR
		case 2:
			if err := os.Symlink("target", filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			want[name] = unix.DT_LNK
		}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var got []string
	err = ReadDirents(fd, func(d Dirent) error {
		got = append(got, d.Name)
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(dir, d.Name), &st); err != nil {
			return err
		}
		if d.Ino != st.Ino {
			t.Errorf("%s: d_ino %d, st_ino %d", d.Name, d.Ino, st.Ino)
		}
		if typ, ok := want[d.Name]; !ok || (d.Type != typ && d.Type != unix.DT_UNKNOWN) {
			t.Errorf("%s: type %d, want %d (listed: %v)", d.Name, d.Type, typ, ok)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("listed %d entries, want %d", len(got), len(want))
	}
	sort.Strings(got)
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("%s listed twice", got[i])
		}
	}
}

// TestReadDirentsStopsAtCallbackError returns the callback's error as is.
func TestReadDirentsStopsAtCallbackError(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	stop := fmt.Errorf("stop")
	calls := 0
	err = ReadDirents(fd, func(Dirent) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Fatalf("err %v after %d calls, want the callback's error after 1", err, calls)
	}
}
