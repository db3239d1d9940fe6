package loose

import "fmt"

// Mode is how a repository stores content objects.
type Mode int

const (
	ModeBare Mode = iota
	ModeArchive
	ModeBareUser
	ModeBareUserOnly
	ModeBareSplitXattrs
)

var modeNames = map[Mode]string{
	ModeBare: "bare", ModeArchive: "archive-z2", ModeBareUser: "bare-user",
	ModeBareUserOnly: "bare-user-only", ModeBareSplitXattrs: "bare-split-xattrs",
}

// String is the name written to the config (archive is "archive-z2").
func (m Mode) String() string {
	if s, ok := modeNames[m]; ok {
		return s
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// ParseMode accepts the names ostree accepts, "archive" included.
func ParseMode(s string) (Mode, error) {
	if s == "archive" {
		return ModeArchive, nil
	}
	for m, n := range modeNames {
		if n == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrMode, s)
}

// IsBare reports whether content is stored uncompressed (checkouts can
// hardlink into the repository).
func (m Mode) IsBare() bool { return m != ModeArchive }
