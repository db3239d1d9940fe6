package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/sysroot"
	"github.com/groveos/grove/core/sysroot/admin"
	"github.com/groveos/grove/core/sysroot/sysroottest"
)

// Demo sysroot facts.
const (
	SysrootStateroot = "exampleos"
	SysrootRef       = "exampleos/x86_64/os"
)

// BuildSysroot creates dir/sysroot: an offline OSTree sysroot (as
// `ostree admin` leaves one) with three deployments of stateroot
// exampleos, the oldest pinned, local /etc edits carried through two
// upgrades (an edited file, an added one, a removed one), kernel
// arguments, and one more commit on the origin ref that `admin upgrade`
// would deploy. Deployment directories are left mutable
// (OSTREE_SYSROOT_DEBUG=mutable-deployments) so the demo's temporary
// directory can be removed. It returns the sysroot path; the result is
// the same on every run.
func BuildSysroot(ctx context.Context, dir string, progress func(string)) (string, error) {
	if progress == nil {
		progress = func(string) {}
	}
	path := filepath.Join(dir, "sysroot")
	if err := sysroottest.NewSysroot(ctx, path, SysrootStateroot); err != nil {
		return "", fmt.Errorf("demo: sysroot %s: %w", path, err)
	}
	s, err := sysroot.Open(ctx, path, sysroot.Options{Debug: sysroot.Debug{MutableDeployments: true}, Lock: true})
	if err != nil {
		return "", fmt.Errorf("demo: sysroot %s: %w", path, err)
	}
	defer s.Unlock()
	kf := s.Repo().Config()
	kf.Set("core", "fsync", "false") // a throwaway demo needs no durability
	kf.Set("sysroot", "bootloader", "none")
	if err := s.Repo().SaveConfig(ctx, kf); err != nil {
		return "", err
	}
	when := time.Date(2023, 3, 1, 9, 0, 0, 0, time.UTC)
	versions := []struct {
		version string
		tree    sysroottest.Tree
	}{
		{"38.20230301.0", sysroottest.Tree{PrettyName: "ExampleOS 38", Binary: "#!/bin/sh\necho 38.0\n"}},
		{"38.20230315.0", sysroottest.Tree{PrettyName: "ExampleOS 38", Binary: "#!/bin/sh\necho 38.1\n",
			Etc: map[string]string{"NetworkManager/nm.conf": "[main]\nplugins=keyfile\ndns=systemd-resolved\n"}}},
		{"38.20230402.0", sysroottest.Tree{PrettyName: "ExampleOS 38", Kernel: "kernel 6.2.9\n", Binary: "#!/bin/sh\necho 38.2\n",
			Etc: map[string]string{"NetworkManager/nm.conf": "[main]\nplugins=keyfile\ndns=systemd-resolved\n", "motd": "Welcome to ExampleOS 38\n"}}},
		{"38.20230420.0", sysroottest.Tree{PrettyName: "ExampleOS 38", Kernel: "kernel 6.2.12\n", Binary: "#!/bin/sh\necho 38.3\n",
			Etc: map[string]string{"NetworkManager/nm.conf": "[main]\nplugins=keyfile\ndns=default\n", "motd": "Welcome to ExampleOS 38 (April)\n"}}},
	}
	scratch, err := os.MkdirTemp(dir, "sysroot-trees-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(scratch)
	for i, v := range versions {
		progress(fmt.Sprintf("committing %s %s", SysrootRef, v.version))
		tree := filepath.Join(scratch, v.version)
		if err := v.tree.Write(tree); err != nil {
			return "", err
		}
		if _, err := sysroottest.Commit(ctx, s.Repo(), tree, SysrootRef, "ExampleOS "+v.version, v.version, when.Add(time.Duration(i)*14*24*time.Hour)); err != nil {
			return "", err
		}
		if i == len(versions)-1 {
			break // left for `admin upgrade`
		}
		progress(fmt.Sprintf("deploying %s", v.version))
		commit, err := s.Repo().ResolveRev(ctx, SysrootRef)
		if err != nil {
			return "", err
		}
		merge := s.MergeDeployment(SysrootStateroot)
		var kargs []string
		if merge == nil {
			kargs = []string{"root=LABEL=exampleos-root", "rw", "quiet", "console=tty0"}
		}
		d, err := admin.Deploy(ctx, s, admin.DeployOptions{Stateroot: SysrootStateroot, Commit: commit,
			Origin: sysroot.NewOrigin(SysrootRef), Merge: merge, Kargs: kargs})
		if err != nil {
			return "", err
		}
		if err := s.SimpleWriteDeployment(ctx, SysrootStateroot, d, merge, sysroot.WriteFlags{Retain: true}); err != nil {
			return "", err
		}
		if i == 0 {
			if err := demoEtcEdits(filepath.Join(path, d.Dir(), "etc")); err != nil {
				return "", err
			}
		}
	}
	progress("pinning the oldest deployment")
	ds := s.Deployments()
	if _, err := admin.SetPinned(s, ds[len(ds)-1], true); err != nil {
		return "", err
	}
	if err := s.Repo().SaveConfig(ctx, withoutFsyncOverride(s)); err != nil {
		return "", err
	}
	return path, nil
}

// demoEtcEdits are what an administrator changed on the first deployment.
func demoEtcEdits(etc string) error {
	if err := os.WriteFile(filepath.Join(etc, "aconfigfile"), []byte("a config file\nedited by the admin\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(etc, "hostname"), []byte("demo-host\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(etc, "NetworkManager/nm.conf"), []byte("[main]\nplugins=keyfile\n# local: no dns plugin\n"), 0o644); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(etc, "testdirectory"))
}

func withoutFsyncOverride(s *sysroot.Sysroot) *keyfile.File {
	kf := s.Repo().Config()
	kf.Delete("core", "fsync")
	return kf
}
