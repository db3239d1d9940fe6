package object

import (
	"errors"
	"fmt"

	"github.com/groveos/grove/core/oid"
)

// Errors returned when an object does not decode or validate.
var (
	ErrMalformed = errors.New("object: malformed object")
	ErrBadName   = errors.New("object: invalid file name")
	ErrBadMode   = errors.New("object: invalid mode")
)

// CorruptError says that an object's bytes do not hash to its name.
type CorruptError struct {
	Name   oid.ObjectName
	Actual oid.Checksum
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("object: corrupted object %s (actual checksum is %s)", e.Name, e.Actual)
}
