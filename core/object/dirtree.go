package object

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
)

// DirTree lists a directory's files and subdirectories, each sorted by name.
type DirTree struct {
	Files []FileEntry
	Dirs  []DirEntry
}

// FileEntry names a content object inside a directory.
type FileEntry struct {
	Name     string
	Checksum oid.Checksum
}

// DirEntry names a subdirectory's dirtree and dirmeta.
type DirEntry struct {
	Name       string
	Tree, Meta oid.Checksum
}

// EmptyDirTree is the checksum of a dirtree with no entries (the byte 00).
var EmptyDirTree = oid.MustParse("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")

var dirTreeType = gvariant.MustParseType("(a(say)a(sayay))")

// Marshal serialises t. Entries must already be sorted (see Sort).
func (t *DirTree) Marshal() []byte {
	n := 8
	for _, f := range t.Files {
		n += len(f.Name) + 1 + 32 + 1 + 4
	}
	for _, d := range t.Dirs {
		n += len(d.Name) + 1 + 64 + 2 + 4
	}
	return t.AppendMarshal(make([]byte, 0, n))
}

// AppendMarshal appends t's serialisation to b.
func (t *DirTree) AppendMarshal(b []byte) []byte { return appendDirTree(b, t) }

// UnmarshalDirTree parses and validates a dirtree: names must be valid,
// sorted, unique across files and directories, checksums 32 bytes.
func UnmarshalDirTree(b []byte) (*DirTree, error) {
	if t, ok := decodeDirTree(b); ok {
		return t, t.Validate()
	}
	v, err := gvariant.Unmarshal(dirTreeType, b)
	if err != nil {
		return nil, fmt.Errorf("object: dirtree: %w", err)
	}
	tup := v.(gvariant.Tuple)
	files, _ := tup[0].([]any)
	dirs, _ := tup[1].([]any)
	t := &DirTree{Files: make([]FileEntry, len(files)), Dirs: make([]DirEntry, len(dirs))}
	for i, e := range files {
		f := e.(gvariant.Tuple)
		t.Files[i].Name = f[0].(string)
		if t.Files[i].Checksum, err = oid.FromBytes(f[1].([]byte)); err != nil {
			return nil, fmt.Errorf("%w: dirtree file %q: %w", ErrMalformed, t.Files[i].Name, err)
		}
	}
	for i, e := range dirs {
		d := e.(gvariant.Tuple)
		t.Dirs[i].Name = d[0].(string)
		if t.Dirs[i].Tree, err = oid.FromBytes(d[1].([]byte)); err != nil {
			return nil, fmt.Errorf("%w: dirtree dir %q: %w", ErrMalformed, t.Dirs[i].Name, err)
		}
		if t.Dirs[i].Meta, err = oid.FromBytes(d[2].([]byte)); err != nil {
			return nil, fmt.Errorf("%w: dirtree dir %q: %w", ErrMalformed, t.Dirs[i].Name, err)
		}
	}
	return t, t.Validate()
}

// Validate checks names and order the way ostree does on pull and fsck.
func (t *DirTree) Validate() error {
	for i, f := range t.Files {
		if err := ValidateName(f.Name); err != nil {
			return err
		}
		if i > 0 && t.Files[i-1].Name >= f.Name {
			return fmt.Errorf("%w: dirtree files not sorted at %q", ErrMalformed, f.Name)
		}
	}
	for i, d := range t.Dirs {
		if err := ValidateName(d.Name); err != nil {
			return err
		}
		if i > 0 && t.Dirs[i-1].Name >= d.Name {
			return fmt.Errorf("%w: dirtree dirs not sorted at %q", ErrMalformed, d.Name)
		}
	}
	return nil
}

// Lookup finds name among files (isDir false) or directories (isDir true).
func (t *DirTree) Lookup(name string) (file *FileEntry, dir *DirEntry) {
	for i := range t.Files {
		if t.Files[i].Name == name {
			return &t.Files[i], nil
		}
	}
	for i := range t.Dirs {
		if t.Dirs[i].Name == name {
			return nil, &t.Dirs[i]
		}
	}
	return nil, nil
}

// ValidateName rejects names ostree refuses inside a dirtree.
func ValidateName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("%w: %q", ErrBadName, name)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("%w: %q contains '/' or NUL", ErrBadName, name)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %q is not UTF-8", ErrBadName, name)
	}
	return nil
}
