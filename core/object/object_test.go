package object

import (
	"bytes"
	"errors"
	"testing"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
)

// Checksums verified against ostree 2022.7 (ostree-format.md §2.6).
var (
	helloSum = oid.MustParse("44f778e59f0a4748d6b0c90a47347212a231c4ad1e8f7ea5c5dffc7749153a6b")
	rootMeta = oid.MustParse("446a0ef11b7cc167f3b603e585c7eeeeb675faa412d5ec73f62988eb0b6c5488")
	rootTree = oid.MustParse("b203b8cf6333823b9b7701086070db0785483ab6860d28dd3586df29af6879ef")
)

func TestWorkedExampleObjects(t *testing.T) {
	hdr := &FileHeader{Mode: ModeReg | 0o644}
	sum, err := ContentChecksum(hdr, bytes.NewReader([]byte("hello\n")))
	if err != nil || sum != helloSum {
		t.Fatalf("content checksum %s, %v", sum, err)
	}
	dm := &DirMeta{Mode: ModeDir | 0o755}
	if got := oid.Sum(dm.Marshal()); got != rootMeta {
		t.Errorf("dirmeta %s", got)
	}
	dt := &DirTree{Files: []FileEntry{{"hello", helloSum}}}
	if got := oid.Sum(dt.Marshal()); got != rootTree {
		t.Errorf("dirtree %s", got)
	}
	if got := oid.Sum((&DirTree{}).Marshal()); got != EmptyDirTree {
		t.Errorf("empty dirtree %s", got)
	}
	c := &Commit{Subject: "subject", Timestamp: 1577836800, RootTree: rootTree, RootMeta: rootMeta}
	if got := oid.Sum(c.Marshal()).String(); got != "a60bbe6f49a32082954d55de774f2ebf88978697b8961fc640b9e708563f3c61" {
		t.Errorf("commit %s", got)
	}
	c.Metadata = []gvariant.DictEntry{{Key: MetaRefBinding, Value: gvariant.NewVariant("as", []string{"test"})}}
	if got := oid.Sum(c.Marshal()).String(); got != "eef71e7b45bae4fcec708b6e008cb414b5c431dc7eeb892a7a59bf5b9efa31ef" {
		t.Errorf("commit with binding %s", got)
	}
	if got := c.ContentChecksum().String(); got != "c0b440f97b8a83e0f9703259385c2929f15440feb960efb63a5985ee767db388" {
		t.Errorf("content checksum %s", got)
	}
	a := hdr.ArchiveHeader(6)
	want := []byte{0, 0, 0, 0x1a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6}
	if !bytes.HasPrefix(a, want) || len(a) != 34 {
		t.Errorf("archive header % x", a)
	}
}

func TestRoundTrips(t *testing.T) {
	c := &Commit{
		Metadata: []gvariant.DictEntry{{Key: MetaVersion, Value: gvariant.NewVariant("s", "1.2")}},
		Parent:   helloSum, Subject: "s", Body: "b\nc", Timestamp: 42, RootTree: rootTree, RootMeta: rootMeta,
		Related: []Related{{"x", rootTree}},
	}
	back, err := UnmarshalCommit(c.Marshal())
	if err != nil || back.Version() != "1.2" || back.Parent != helloSum || back.Body != "b\nc" || back.Timestamp != 42 || len(back.Related) != 1 {
		t.Fatalf("commit round trip: %+v %v", back, err)
	}
	dm := &DirMeta{UID: 1000, GID: 100, Mode: ModeDir | 0o1777, Xattrs: []Xattr{{"user.a", []byte("1")}, {"user.b", nil}}}
	bdm, err := UnmarshalDirMeta(dm.Marshal())
	if err != nil || bdm.UID != 1000 || bdm.Mode != dm.Mode || len(bdm.Xattrs) != 2 || bdm.Xattrs[0].Name != "user.a" {
		t.Fatalf("dirmeta round trip: %+v %v", bdm, err)
	}
	h := &FileHeader{UID: 5, GID: 6, Mode: ModeLink | 0o777, SymlinkTarget: "../x", Xattrs: []Xattr{{"user.k", []byte("v")}}}
	bh, err := ReadStreamHeader(bytes.NewReader(h.StreamPrefix()))
	if err != nil || bh.SymlinkTarget != "../x" || bh.UID != 5 || len(bh.Xattrs) != 1 {
		t.Fatalf("header round trip: %+v %v", bh, err)
	}
	ah, size, err := ReadArchiveHeader(bytes.NewReader(h.ArchiveHeader(0)))
	if err != nil || size != 0 || ah.Mode != h.Mode {
		t.Fatalf("archive header round trip: %+v %d %v", ah, size, err)
	}
}

func TestValidationRejects(t *testing.T) {
	unsorted := &DirTree{Files: []FileEntry{{"b", helloSum}, {"a", helloSum}}}
	if _, err := UnmarshalDirTree(unsorted.Marshal()); !errors.Is(err, ErrMalformed) {
		t.Errorf("unsorted dirtree: %v", err)
	}
	for _, name := range []string{"", ".", "..", "a/b"} {
		dt := &DirTree{Dirs: []DirEntry{{name, rootTree, rootMeta}}}
		if _, err := UnmarshalDirTree(dt.Marshal()); !errors.Is(err, ErrBadName) {
			t.Errorf("dirtree name %q: %v", name, err)
		}
	}
	if _, err := UnmarshalDirMeta((&DirMeta{Mode: ModeReg | 0o644}).Marshal()); !errors.Is(err, ErrBadMode) {
		t.Errorf("dirmeta with a file mode: %v", err)
	}
	for _, h := range []*FileHeader{
		{Mode: 0o020644},                 // char device
		{Mode: ModeReg | 0o644, Rdev: 1}, // rdev
		{Mode: ModeReg | 0o644, SymlinkTarget: "x"},
		{Mode: ModeLink | 0o777},  // symlink without target
		{Mode: ModeReg | 0o10644}, // stray bits
	} {
		if _, err := UnmarshalFileHeader(h.Marshal()); err == nil {
			t.Errorf("header %+v accepted", h)
		}
	}
	for _, b := range [][]byte{nil, {0}, {0, 0, 0, 0xff, 0, 0, 0, 0}, bytes.Repeat([]byte{0xff}, 40)} {
		if _, err := UnmarshalCommit(b); err == nil {
			t.Errorf("commit % x accepted", b)
		}
		if _, _, err := ReadArchiveHeader(bytes.NewReader(b)); err == nil {
			t.Errorf("archive header % x accepted", b)
		}
	}
}

// FuzzDecoders feeds arbitrary bytes to every object decoder: none may
// panic, and whatever decodes must re-encode to the same bytes (the
// decoders accept normal form only).
func FuzzDecoders(f *testing.F) {
	f.Add((&DirTree{Files: []FileEntry{{"hello", helloSum}}, Dirs: []DirEntry{{"d", rootTree, rootMeta}}}).Marshal())
	f.Add((&DirMeta{Mode: ModeDir | 0o755, Xattrs: []Xattr{{"user.a", []byte("1")}}}).Marshal())
	f.Add((&Commit{Subject: "s", Parent: helloSum, RootTree: rootTree, RootMeta: rootMeta,
		Metadata: []gvariant.DictEntry{{Key: "version", Value: gvariant.NewVariant("s", "1")}}}).Marshal())
	f.Add((&FileHeader{Mode: ModeLink | 0o777, SymlinkTarget: "t"}).ArchiveHeader(0))
	f.Add((&FileHeader{Mode: ModeReg | 0o644}).StreamPrefix())
	f.Fuzz(func(t *testing.T, b []byte) {
		if dt, err := UnmarshalDirTree(b); err == nil && !bytes.Equal(dt.Marshal(), b) {
			t.Errorf("dirtree re-encodes differently")
		}
		if dm, err := UnmarshalDirMeta(b); err == nil && !bytes.Equal(dm.Marshal(), b) {
			t.Errorf("dirmeta re-encodes differently")
		}
		if c, err := UnmarshalCommit(b); err == nil && !bytes.Equal(c.Marshal(), b) {
			t.Errorf("commit re-encodes differently")
		}
		UnmarshalMeta(b)
		UnmarshalXattrs(b)
		ReadArchiveHeader(bytes.NewReader(b))
		ReadStreamHeader(bytes.NewReader(b))
	})
}
