package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/groveos/grove/core/delta"
)

// Source hands out a delta's bytes: the superblock file and part files.
// Inline parts never reach Part: they are in the superblock.
type Source interface {
	Superblock(ctx context.Context) ([]byte, error)
	// Part returns part i's file; h says its expected size, which an
	// implementation uses to refuse reading more.
	Part(ctx context.Context, i int, h delta.PartHeader) ([]byte, error)
}

// Dir is a delta stored in a directory: a superblock file (named File,
// "superblock" when empty) with parts 0, 1, … beside it.
type Dir struct {
	Dir, File string
}

// DirSource returns the Source for apply-offline's PATH: a delta
// directory, or the superblock file itself.
func DirSource(path string) (*Dir, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return &Dir{Dir: path}, nil
	}
	return &Dir{Dir: filepath.Dir(path), File: filepath.Base(path)}, nil
}

// Superblock reads the superblock file.
func (d *Dir) Superblock(ctx context.Context) ([]byte, error) {
	name := d.File
	if name == "" {
		name = "superblock"
	}
	return os.ReadFile(filepath.Join(d.Dir, name))
}

// Part reads part i, failing if it is not exactly h.Size bytes.
func (d *Dir) Part(ctx context.Context, i int, h delta.PartHeader) ([]byte, error) {
	path := filepath.Join(d.Dir, strconv.Itoa(i))
	return ReadLimited(path, h.Size)
}

// ReadLimited reads a file that must be exactly size bytes, never reading
// more than size+1.
func ReadLimited(path string, size uint64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("Opening deltapart '%s': %w", filepath.Base(path), err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if uint64(st.Size()) != size {
		return nil, fmt.Errorf("%w: part %s is %d bytes, the superblock says %d", delta.ErrCorrupt, path, st.Size(), size)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: part %s shrank while read", delta.ErrCorrupt, path)
		}
		return nil, err
	}
	return b, nil
}
