package pull

import (
	"bytes"
	"io"
	"testing"

	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/klauspost/compress/flate"
)

// archiveBytes builds a .filez object for the seeds.
func archiveBytes(tb testing.TB, hdr *object.FileHeader, payload []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.Write(hdr.ArchiveHeader(uint64(len(payload))))
	if !hdr.IsSymlink() {
		zw, _ := flate.NewWriter(&b, 6)
		zw.Write(payload)
		zw.Close()
	}
	return b.Bytes()
}

// FuzzOpenArchive feeds arbitrary bytes to the .filez decoder a pull runs
// on everything a server sends: it must not panic, must never yield more
// payload than the header declares, and copyArchive must accept exactly
// the streams whose content hashes to the name asked for.
func FuzzOpenArchive(f *testing.F) {
	reg := &object.FileHeader{Mode: object.ModeReg | 0o644}
	link := &object.FileHeader{Mode: object.ModeLink | 0o777, SymlinkTarget: "../target"}
	good := archiveBytes(f, reg, []byte("hello grove\n"))
	f.Add(good)
	f.Add(archiveBytes(f, reg, nil))
	f.Add(archiveBytes(f, link, nil))
	f.Add(good[:len(good)-2])          // truncated
	f.Add(append(good, "trailing"...)) // data after the stream
	f.Add(archiveBytes(f, reg, bytes.Repeat([]byte{0}, 70000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, release, err := OpenArchive(bytes.NewReader(data))
		if err == nil {
			n, err := io.Copy(io.Discard, c.Reader)
			if n > c.Size {
				t.Fatalf("payload of %d bytes, header says %d", n, c.Size)
			}
			if err == nil && n != c.Size {
				t.Fatalf("payload of %d bytes without an error, header says %d", n, c.Size)
			}
			release()
		}
		// The name the bytes would need to be accepted under.
		var want oid.Checksum
		if c, release, err := OpenArchive(bytes.NewReader(data)); err == nil {
			want, err = object.ContentChecksum(c.Header, c.Reader)
			release()
			if err != nil {
				return
			}
		}
		// From memory and streamed (a reader of no known type): the same
		// verdict either way.
		var verdicts []bool
		for _, src := range []func() io.Reader{
			func() io.Reader { return bytes.NewReader(data) },
			func() io.Reader { return io.MultiReader(bytes.NewReader(data)) },
		} {
			var out bytes.Buffer
			_, err1 := copyArchive(&out, src(), want, true)
			verdicts = append(verdicts, err1 == nil)
			if err1 == nil && !bytes.Equal(out.Bytes(), data) {
				t.Fatal("accepted stream not copied as it was")
			}
			if _, err := copyArchive(io.Discard, src(), oid.Sum([]byte("other")), true); err == nil {
				t.Fatal("stream accepted under a name it does not hash to")
			}
		}
		if verdicts[0] != verdicts[1] {
			t.Fatalf("in memory accepted %v, streamed %v", verdicts[0], verdicts[1])
		}
	})
}
