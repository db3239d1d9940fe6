package object

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/oid"
)

// FileHeader is the metadata of a content object (regular file or symlink).
type FileHeader struct {
	UID, GID, Mode uint32
	Rdev           uint32 // always 0 for valid objects
	SymlinkTarget  string // "" for regular files
	Xattrs         []Xattr
}

// IsSymlink reports whether h describes a symbolic link.
func (h *FileHeader) IsSymlink() bool { return h.Mode&ModeType == ModeLink }

// Validate applies ostree's rules: regular file or symlink, no stray bits.
func (h *FileHeader) Validate() error {
	switch h.Mode & ModeType {
	case ModeReg:
		if h.SymlinkTarget != "" {
			return fmt.Errorf("%w: regular file with a symlink target", ErrMalformed)
		}
	case ModeLink:
		if h.SymlinkTarget == "" {
			return fmt.Errorf("%w: symlink with an empty target", ErrMalformed)
		}
	default:
		return fmt.Errorf("%w: %#o is neither a regular file nor a symlink", ErrBadMode, h.Mode)
	}
	if h.Mode&^(ModeType|ModePerms) != 0 {
		return fmt.Errorf("%w: %#o", ErrBadMode, h.Mode)
	}
	if h.Rdev != 0 {
		return fmt.Errorf("%w: rdev %d", ErrMalformed, h.Rdev)
	}
	return nil
}

var (
	fileHeaderType    = gvariant.MustParseType("(uuuusa(ayay))")
	archiveHeaderType = gvariant.MustParseType("(tuuuusa(ayay))")
)

// Marshal serialises the (uuuusa(ayay)) header.
func (h *FileHeader) Marshal() []byte { return appendFileHeader(nil, h, false, 0) }

// StreamPrefix is the part of the checksummed content stream that precedes
// the payload: BE32 length, four zero bytes, the header.
func (h *FileHeader) StreamPrefix() []byte { return framedHeader(h, false, 0) }

// framedHeader is BE32 length, four zero bytes, then the header, built in
// one buffer.
func framedHeader(h *FileHeader, archive bool, size uint64) []byte {
	b := make([]byte, 8, 64+len(h.SymlinkTarget))
	b = appendFileHeader(b, h, archive, size)
	binary.BigEndian.PutUint32(b, uint32(len(b)-8))
	return b
}

func framed(hdr []byte) []byte {
	out := make([]byte, 8, 8+len(hdr))
	binary.BigEndian.PutUint32(out, uint32(len(hdr)))
	return append(out, hdr...)
}

// UnmarshalFileHeader parses a (uuuusa(ayay)) header.
func UnmarshalFileHeader(b []byte) (*FileHeader, error) {
	if h, _, ok := decodeFileHeader(b, false); ok {
		return h, h.Validate()
	}
	v, err := gvariant.Unmarshal(fileHeaderType, b)
	if err != nil {
		return nil, fmt.Errorf("object: file header: %w", err)
	}
	t := v.(gvariant.Tuple)
	return headerFromFields(t)
}

func headerFromFields(t gvariant.Tuple) (*FileHeader, error) {
	h := &FileHeader{
		UID:           bits.ReverseBytes32(t[0].(uint32)),
		GID:           bits.ReverseBytes32(t[1].(uint32)),
		Mode:          bits.ReverseBytes32(t[2].(uint32)),
		Rdev:          bits.ReverseBytes32(t[3].(uint32)),
		SymlinkTarget: t[4].(string),
	}
	var err error
	if h.Xattrs, err = xattrsFromVariant(t[5]); err != nil {
		return nil, err
	}
	return h, h.Validate()
}

// ArchiveHeader serialises the .filez prefix: BE32 length, four zero
// bytes, then (tuuuusa(ayay)) with the uncompressed size.
func (h *FileHeader) ArchiveHeader(size uint64) []byte { return framedHeader(h, true, size) }

// maxHeader bounds a header read from disk or the network.
const maxHeader = 10 << 20

// ReadArchiveHeader reads a .filez prefix from r and returns the header and
// the uncompressed payload size; r is left at the start of the DEFLATE data.
func ReadArchiveHeader(r io.Reader) (*FileHeader, uint64, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, 0, fmt.Errorf("%w: archive header: %w", ErrMalformed, err)
	}
	n := binary.BigEndian.Uint32(pre[:4])
	if n > maxHeader {
		return nil, 0, fmt.Errorf("%w: archive header length %d", ErrMalformed, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, 0, fmt.Errorf("%w: archive header: %w", ErrMalformed, err)
	}
	if h, size, ok := decodeFileHeader(buf, true); ok {
		if err := h.Validate(); err != nil {
			return nil, 0, err
		}
		return h, size, nil
	}
	v, err := gvariant.Unmarshal(archiveHeaderType, buf)
	if err != nil {
		return nil, 0, fmt.Errorf("object: archive header: %w", err)
	}
	t := v.(gvariant.Tuple)
	h, err := headerFromFields(t[1:])
	if err != nil {
		return nil, 0, err
	}
	return h, bits.ReverseBytes64(t[0].(uint64)), nil
}

// ReadStreamHeader reads the BE32-framed (uuuusa(ayay)) prefix of a
// content stream, leaving r at the payload.
func ReadStreamHeader(r io.Reader) (*FileHeader, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("%w: content stream: %w", ErrMalformed, err)
	}
	n := binary.BigEndian.Uint32(pre[:4])
	if n > maxHeader {
		return nil, fmt.Errorf("%w: content header length %d", ErrMalformed, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("%w: content stream: %w", ErrMalformed, err)
	}
	return UnmarshalFileHeader(buf)
}

// ContentChecksum hashes a content object from its header and payload (nil
// for symlinks).
func ContentChecksum(h *FileHeader, payload io.Reader) (oid.Checksum, error) {
	hash := sha256.New()
	hash.Write(h.StreamPrefix())
	if payload != nil && !h.IsSymlink() {
		if _, err := io.Copy(hash, payload); err != nil {
			return oid.Checksum{}, err
		}
	}
	var out oid.Checksum
	hash.Sum(out[:0])
	return out, nil
}
