//go:build !linux

package rofiles

import "errors"

// Mount is only implemented on Linux.
func Mount(source, mountpoint string, o Options) (*Server, error) {
	return nil, errors.New("rofiles: FUSE mounts are only supported on Linux")
}
