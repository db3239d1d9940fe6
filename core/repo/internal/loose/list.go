package loose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/oid"
	"golang.org/x/sys/unix"
)

// looseEntry is one file of a fan-out directory as getdents reports it;
// name is only valid during the callback.
type looseEntry struct {
	worker int    // which of the scan's goroutines
	sub    string // the fan-out directory, two hex digits
	dirfd  int    // open on objects/sub
	name   []byte
	ino    uint64
	typ    uint8
}

// scanLoose lists the 256 fan-out directories of objects/ (this
// repository's, not a parent's) on up to min(GOMAXPROCS, 8) goroutines
// with raw getdents, calling fn for every entry; it returns the number of
// goroutines used (for callers that keep per-worker results). Missing
// fan-out directories are skipped. The first error stops the scan.
func (s *Store) scanLoose(ctx context.Context, fn func(e *looseEntry) error) (int, error) {
	root := filepath.Join(s.path, "objects")
	rfd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("repo: list objects: %w", err)
	}
	defer unix.Close(rfd)
	workers := min(runtime.GOMAXPROCS(0), 8)
	errs := make([]error, workers)
	var next atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			e := looseEntry{worker: w}
			for {
				i := int(next.Add(1) - 1)
				if i >= 256 {
					return
				}
				if errs[w] = ctx.Err(); errs[w] == nil {
					errs[w] = scanFanout(rfd, root, i, &e, fn)
				}
				if errs[w] != nil {
					next.Store(256) // stop the others too
					return
				}
			}
		})
	}
	wg.Wait()
	return workers, errors.Join(errs...)
}

const hexDigits = "0123456789abcdef"

func scanFanout(rfd int, root string, i int, e *looseEntry, fn func(*looseEntry) error) error {
	sub := string([]byte{hexDigits[i>>4], hexDigits[i&15]})
	fd, err := unix.Openat(rfd, sub, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err == unix.ENOENT {
		return nil
	}
	if err != nil {
		return fmt.Errorf("repo: list objects: %s/%s: %w", root, sub, err)
	}
	defer unix.Close(fd)
	e.sub, e.dirfd = sub, fd
	err = fsutil.ReadDirentsRaw(fd, func(name []byte, ino uint64, typ uint8) error {
		e.name, e.ino, e.typ = name, ino, typ
		return fn(e)
	})
	if err != nil {
		return fmt.Errorf("repo: list objects: %s/%s: %w", root, sub, err)
	}
	return nil
}

// ListObjects calls fn for every loose object in this repository (not its
// parent), in checksum order of the fan-out directories and directory
// order within each. Files that are not objects are ignored.
func (s *Store) ListObjects(ctx context.Context, fn func(oid.ObjectName) error) error {
	var per [256][]oid.ObjectName
	_, err := s.scanLoose(ctx, func(e *looseEntry) error {
		sum, typ, ok := parseLooseName(e.sub, e.name)
		if ok {
			per[sum[0]] = append(per[sum[0]], oid.ObjectName{Checksum: sum, Type: typ})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, names := range per {
		for _, n := range names {
			if err := fn(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListObjectsOfType returns the checksums of every loose object of one
// type in this repository (not its parent), in the order ListObjects
// gives; it looks only at names, so it is cheap even for commits among
// hundreds of thousands of files.
func (s *Store) ListObjectsOfType(ctx context.Context, typ oid.ObjectType) ([]oid.Checksum, error) {
	var per [256][]oid.Checksum
	ext := typ.String()
	_, err := s.scanLoose(ctx, func(e *looseEntry) error {
		const n = 2*oid.Size - 2
		if len(e.name) != n+1+len(ext) || e.name[n] != '.' || string(e.name[n+1:]) != ext {
			return nil
		}
		if sum, ok := parseLooseSum(e.sub, e.name); ok {
			per[sum[0]] = append(per[sum[0]], sum)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var all []oid.Checksum
	for _, s := range per {
		all = append(all, s...)
	}
	return all, nil
}

// unhex maps a lowercase hex digit to its value, anything else to 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
	}
	return t
}()

// parseLooseSum reads the checksum of the object whose loose file in
// objects/sub is name ("<62 hex>.<ext>"); the extension is not looked at.
func parseLooseSum(sub string, name []byte) (sum oid.Checksum, ok bool) {
	const n = 2*oid.Size - 2
	if len(name) < n+2 || name[n] != '.' {
		return sum, false
	}
	hi, lo := unhex[sub[0]], unhex[sub[1]]
	if hi|lo > 0xf {
		return sum, false
	}
	sum[0] = hi<<4 | lo
	for i := 1; i < oid.Size; i++ {
		hi, lo := unhex[name[2*i-2]], unhex[name[2*i-1]]
		if hi|lo > 0xf {
			return sum, false
		}
		sum[i] = hi<<4 | lo
	}
	return sum, true
}

// parseLooseName names the object stored as name in objects/sub; ".filez"
// is a content object.
func parseLooseName(sub string, name []byte) (oid.Checksum, oid.ObjectType, bool) {
	sum, ok := parseLooseSum(sub, name)
	if !ok {
		return sum, 0, false
	}
	ext := string(name[2*oid.Size-1:])
	if ext == "filez" {
		return sum, oid.File, true
	}
	typ, err := oid.ParseObjectType(ext)
	return sum, typ, err == nil
}

// CommitsWithPrefix lists the commit objects whose checksum starts with the
// hex string prefix (any length, even empty), sorted.
func (s *Store) CommitsWithPrefix(ctx context.Context, prefix string) ([]oid.Checksum, error) {
	var dirs []string
	if len(prefix) >= 2 {
		dirs = []string{prefix[:2]}
	} else {
		for _, a := range hexDigits {
			if prefix != "" && string(a) != prefix {
				continue
			}
			for _, b := range hexDigits {
				dirs = append(dirs, string(a)+string(b))
			}
		}
	}
	var found []oid.Checksum
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ents, err := os.ReadDir(filepath.Join(s.path, "objects", d))
		if err != nil {
			if IsNotExist(err) {
				continue
			}
			return nil, fmt.Errorf("repo: listing commits: %w", err)
		}
		for _, e := range ents {
			base, ok := strings.CutSuffix(e.Name(), ".commit")
			if !ok || !strings.HasPrefix(d+base, prefix) {
				continue
			}
			if sum, err := oid.Parse(d + base); err == nil {
				found = append(found, sum)
			}
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].String() < found[j].String() })
	return found, nil
}
