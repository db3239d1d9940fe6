package oid

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Errors returned by the parsers in this package.
var (
	ErrChecksum   = errors.New("oid: invalid checksum")
	ErrObjectType = errors.New("oid: invalid object type")
	ErrRef        = errors.New("oid: invalid ref name")
	ErrRemote     = errors.New("oid: invalid remote name")
)

// Size is the length of a binary checksum.
const Size = sha256.Size

// Checksum is a SHA-256 object name.
type Checksum [Size]byte

// Sum returns the checksum of b.
func Sum(b []byte) Checksum { return sha256.Sum256(b) }

// Parse reads a 64-character lowercase hex checksum.
func Parse(s string) (Checksum, error) {
	var c Checksum
	if !IsChecksum(s) {
		return c, fmt.Errorf("%w: %q", ErrChecksum, s)
	}
	hex.Decode(c[:], []byte(s))
	return c, nil
}

// MustParse is Parse for constants in tests and tables.
func MustParse(s string) Checksum {
	c, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return c
}

// FromBytes converts a 32-byte binary checksum, as stored inside variants.
func FromBytes(b []byte) (Checksum, error) {
	var c Checksum
	if len(b) != Size {
		return c, fmt.Errorf("%w: %d bytes, want %d", ErrChecksum, len(b), Size)
	}
	copy(c[:], b)
	return c, nil
}

// IsChecksum reports whether s is a full lowercase hex checksum.
func IsChecksum(s string) bool {
	if len(s) != 2*Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

// IsPartialChecksum reports whether s could abbreviate a checksum.
func IsPartialChecksum(s string) bool {
	if len(s) == 0 || len(s) > 2*Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func (c Checksum) String() string { return hex.EncodeToString(c[:]) }

// Short is the abbreviated form used in listings.
func (c Checksum) Short() string { return c.String()[:10] }

// IsZero reports whether c is all zero bytes (the "no checksum" value).
func (c Checksum) IsZero() bool { return c == Checksum{} }

// Bytes returns a fresh copy of the binary checksum.
func (c Checksum) Bytes() []byte { return append([]byte(nil), c[:]...) }

// ModifiedBase64 is OSTree's file-name-safe base64 of a checksum, used in
// static delta paths: standard alphabet, no padding, '/' replaced by '_'.
func (c Checksum) ModifiedBase64() string {
	return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(c[:]), "/", "_")
}

// ParseModifiedBase64 reverses ModifiedBase64.
func ParseModifiedBase64(s string) (Checksum, error) {
	var c Checksum
	b, err := base64.RawStdEncoding.DecodeString(strings.ReplaceAll(s, "_", "/"))
	if err != nil || len(b) != Size {
		return c, fmt.Errorf("%w: bad modified base64 %q", ErrChecksum, s)
	}
	copy(c[:], b)
	return c, nil
}

// ObjectType is OSTree's object type enumeration; the numbers are on the
// wire in static deltas.
type ObjectType uint8

const (
	File            ObjectType = 1
	DirTree         ObjectType = 2
	DirMeta         ObjectType = 3
	Commit          ObjectType = 4
	TombstoneCommit ObjectType = 5
	CommitMeta      ObjectType = 6
	PayloadLink     ObjectType = 7
	FileXattrs      ObjectType = 8
	FileXattrsLink  ObjectType = 9
)

var typeNames = [...]string{
	File: "file", DirTree: "dirtree", DirMeta: "dirmeta", Commit: "commit",
	TombstoneCommit: "tombstone-commit", CommitMeta: "commitmeta",
	PayloadLink: "payload-link", FileXattrs: "file-xattrs", FileXattrsLink: "file-xattrs-link",
}

// Valid reports whether t is a known object type.
func (t ObjectType) Valid() bool { return t >= File && t <= FileXattrsLink }

// String is the type's name, which is also its loose-file extension.
func (t ObjectType) String() string {
	if !t.Valid() {
		return fmt.Sprintf("objtype(%d)", uint8(t))
	}
	return typeNames[t]
}

// IsMeta reports whether t is a metadata object (dirtree through commitmeta).
func (t ObjectType) IsMeta() bool { return t >= DirTree && t <= CommitMeta }

// ParseObjectType reads an object type name such as "dirtree".
func ParseObjectType(s string) (ObjectType, error) {
	for i, n := range typeNames {
		if n != "" && n == s {
			return ObjectType(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrObjectType, s)
}

// ObjectName is a checksum together with its type.
type ObjectName struct {
	Checksum Checksum
	Type     ObjectType
}

// String is ostree's "checksum.type" form.
func (n ObjectName) String() string { return n.Checksum.String() + "." + n.Type.String() }

// ParseObjectName reads "checksum.type".
func ParseObjectName(s string) (ObjectName, error) {
	c, t, ok := strings.Cut(s, ".")
	if !ok {
		return ObjectName{}, fmt.Errorf("%w: object name %q has no type", ErrObjectType, s)
	}
	sum, err := Parse(c)
	if err != nil {
		return ObjectName{}, err
	}
	typ, err := ParseObjectType(t)
	if err != nil {
		return ObjectName{}, err
	}
	return ObjectName{sum, typ}, nil
}

var (
	refRe    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:[\w\d][-._\w\d]*/)*[\w\d][-._\w\d]*$`) })
	remoteRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w\d][-._\w\d]*$`) })
)

// ValidateRef checks a ref name against ostree's rules.
func ValidateRef(name string) error {
	if !refRe().MatchString(name) {
		return fmt.Errorf("%w: %q", ErrRef, name)
	}
	return nil
}

// ValidateRemote checks a remote name against ostree's rules.
func ValidateRemote(name string) error {
	if !remoteRe().MatchString(name) {
		return fmt.Errorf("%w: %q", ErrRemote, name)
	}
	return nil
}

// ParseRefspec splits "[REMOTE:]REF" and validates both parts.
func ParseRefspec(spec string) (remote, ref string, err error) {
	if r, rest, ok := strings.Cut(spec, ":"); ok {
		if err := ValidateRemote(r); err != nil {
			return "", "", err
		}
		remote, spec = r, rest
	}
	if err := ValidateRef(spec); err != nil {
		return "", "", err
	}
	return remote, spec, nil
}
