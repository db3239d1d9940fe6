package object

import (
	"fmt"
	"math/bits"

	"github.com/groveos/grove/core/gvariant"
)

// Mode bits as in <sys/stat.h>; ostree stores the full st_mode.
const (
	ModeType  = 0o170000
	ModeDir   = 0o040000
	ModeReg   = 0o100000
	ModeLink  = 0o120000
	ModePerms = 0o7777
)

// DirMeta is a directory's ownership, mode and xattrs.
type DirMeta struct {
	UID, GID, Mode uint32
	Xattrs         []Xattr
}

var dirMetaType = gvariant.MustParseType("(uuua(ayay))")

// Marshal serialises m in normal form.
func (m *DirMeta) Marshal() []byte { return appendDirMeta(nil, m) }

// UnmarshalDirMeta parses and validates a dirmeta object.
func UnmarshalDirMeta(b []byte) (*DirMeta, error) {
	m, ok := decodeDirMeta(b)
	if !ok {
		v, err := gvariant.Unmarshal(dirMetaType, b)
		if err != nil {
			return nil, fmt.Errorf("object: dirmeta: %w", err)
		}
		t := v.(gvariant.Tuple)
		m = &DirMeta{
			UID:  bits.ReverseBytes32(t[0].(uint32)),
			GID:  bits.ReverseBytes32(t[1].(uint32)),
			Mode: bits.ReverseBytes32(t[2].(uint32)),
		}
		if m.Xattrs, err = xattrsFromVariant(t[3]); err != nil {
			return nil, err
		}
	}
	if m.Mode&ModeType != ModeDir || m.Mode&^(ModeType|ModePerms) != 0 {
		return nil, fmt.Errorf("%w: dirmeta mode %#o", ErrBadMode, m.Mode)
	}
	return m, nil
}
