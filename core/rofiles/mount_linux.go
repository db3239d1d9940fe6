//go:build linux

package rofiles

import (
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Mount checks the arguments (see Check), mounts SOURCE at MOUNTPOINT and
// starts serving in the background. It returns once the kernel has the mount.
func Mount(source, mountpoint string, o Options) (*Server, error) {
	src, err := filepath.Abs(source)
	if err != nil {
		return nil, err
	}
	mnt, err := filepath.Abs(mountpoint)
	if err != nil {
		return nil, err
	}
	if err := Check(src, mnt); err != nil {
		return nil, err
	}
	root, err := newTree(src, o.Copyup)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", src, unwrapPath(err))
	}

	asRoot := os.Geteuid() == 0
	entry, attr := o.EntryTimeout, o.AttrTimeout
	mo := fuse.MountOptions{
		FsName:      o.FsName,
		Name:        "grove-rofiles",
		AllowOther:  o.AllowOther || asRoot,
		Debug:       o.Debug,
		Logger:      o.Logger,
		DirectMount: asRoot,
	}
	if mo.FsName == "" {
		mo.FsName = src
	}
	if o.DefaultPermissions || asRoot {
		mo.Options = append(mo.Options, "default_permissions")
	}
	mo.Options = append(mo.Options, o.Extra...)
	logger := o.Logger
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
		mo.Logger = logger
	}
	opts := &fs.Options{
		MountOptions:    mo,
		EntryTimeout:    &entry,
		AttrTimeout:     &attr,
		NullPermissions: true, // show modes as they are, even 0
		Logger:          logger,
	}
	srv, err := fs.Mount(mnt, root, opts)
	if err != nil {
		return nil, fmt.Errorf("mounting %s on %s: %w", src, mnt, err)
	}
	return &Server{srv: srv, Source: src, Mountpoint: mnt}, nil
}
