package main

// Rows for `admin` (issue 17): deploy of a new commit on a sysroot of the
// bench tree, status of a sysroot with 10 deployments, and grove's
// rollback (ostree has no such verb). Fixture sysroots are made with the
// reference ostree; every timed run works on a hard-linked copy.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// adminEnv: deployment directories stay mutable (the scratch copies must
// be removable); both tools get it, and otherwise run as they do by
// default (ostree's fsfreeze and global sync() included).
var adminEnv = []string{"OSTREE_SYSROOT_DEBUG=mutable-deployments"}

func (e *env) sysroot() string   { return filepath.Join(e.Fx, "sysroot") }
func (e *env) sysroot10() string { return filepath.Join(e.Fx, "sysroot-10") }

func adminDeployRow() row {
	return row{
		Name: "admin deploy, new commit", Target: 0.5,
		Fixtures: []string{"sysroot"},
		Env:      adminEnv,
		Setup: func(e *env, dir string) error {
			return copyLinked(e.sysroot(), filepath.Join(dir, "sysroot"))
		},
		Cmds: func(e *env, dir string) [][]string {
			return [][]string{{"admin", "--sysroot=sysroot", "deploy", "--os=bench", "bench/new"}}
		},
		Output: true,
	}
}

func adminStatusRow() row {
	return row{
		Name: "admin status, 10 deployments", Max: 20 * time.Millisecond,
		Fixtures: []string{"sysroot-10"},
		Cmds: func(e *env, dir string) [][]string {
			return [][]string{{"admin", "--sysroot=" + e.sysroot10(), "status"}}
		},
		Output: true,
	}
}

func adminRollbackRow() row {
	return row{
		Name: "admin rollback, 10 deployments", Max: 50 * time.Millisecond, GroveOnly: true,
		Fixtures: []string{"sysroot-10"},
		Env:      adminEnv,
		Setup: func(e *env, dir string) error {
			return copyLinked(e.sysroot10(), filepath.Join(dir, "sysroot"))
		},
		Cmds: func(e *env, dir string) [][]string {
			return [][]string{{"admin", "--sysroot=sysroot", "rollback"}}
		},
	}
}

// copyLinked copies a sysroot with cp -al: every file is a new link to
// the same inode. Both tools only ever replace files (rename) in a
// sysroot, never write into one, so the fixture stays intact.
func copyLinked(src, dst string) error {
	if out, err := exec.Command("cp", "-al", src, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("cp -al %s %s: %w: %s", src, dst, err, firstLine(string(out)))
	}
	return nil
}

func (e *env) admin(sysroot string, args ...string) error {
	cmd := exec.Command(e.Ostree, append([]string{"admin", "--sysroot=" + sysroot}, args...)...)
	cmd.Env = append(cmdEnv(), adminEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("ostree admin %s: %w: %s", strings.Join(args, " "), err, lines[len(lines)-1])
	}
	return nil
}

// buildSysroot: the bench tree made deployable (etc moved to usr/etc, a
// fake kernel and initramfs in usr/lib/modules), committed as bench/base
// and deployed; bench/new is the tree with every 10th file under usr/
// changed, usr/share/doc gone and 50 files added (mutateCheckout), plus a
// changed /usr/etc file, ready to be deployed by the row.
func (e *env) buildSysroot() error {
	sr := e.sysroot()
	if err := os.MkdirAll(sr, 0o755); err != nil {
		return err
	}
	if err := run(e.Ostree, "admin", "init-fs", "--modern", sr); err != nil {
		return err
	}
	if err := e.admin(sr, "os-init", "bench"); err != nil {
		return err
	}
	tree := filepath.Join(e.Fx, "os-tree")
	if err := copyLinked(e.Tree, tree); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(tree, "usr/etc")); os.IsNotExist(err) {
		err := os.Rename(filepath.Join(tree, "etc"), filepath.Join(tree, "usr/etc"))
		if os.IsNotExist(err) { // a tree without /etc (-tree): give it one
			err = os.MkdirAll(filepath.Join(tree, "usr/etc"), 0o755)
		}
		if err != nil {
			return err
		}
	}
	// A boot entry's title comes from os-release; a -tree without one
	// gets one.
	_, errLib := os.Stat(filepath.Join(tree, "usr/lib/os-release"))
	_, errEtc := os.Stat(filepath.Join(tree, "usr/etc/os-release"))
	if errLib != nil && errEtc != nil {
		if err := os.WriteFile(filepath.Join(tree, "usr/etc/os-release"), []byte("ID=bench\nPRETTY_NAME=\"Bench OS\"\n"), 0o644); err != nil {
			return err
		}
	}
	kdir := filepath.Join(tree, "usr/lib/modules/6.1.0-bench")
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		return err
	}
	for name, content := range map[string]string{"vmlinuz": "a bench kernel\n", "initramfs.img": "a bench initramfs\n"} {
		if err := os.WriteFile(filepath.Join(kdir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	repo := "--repo=" + filepath.Join(sr, "ostree/repo")
	if err := run(e.Ostree, append([]string{repo, "commit", "-b", "bench/base", "--add-metadata-string=version=1", "--tree=dir=" + tree}, commitFlags()...)...); err != nil {
		return err
	}
	if err := e.admin(sr, "deploy", "--os=bench", "--karg=root=LABEL=bench", "bench/base"); err != nil {
		return err
	}
	if err := mutateCheckout(tree); err != nil {
		return err
	}
	conf := filepath.Join(tree, "usr/etc/bench.conf")
	if err := os.WriteFile(conf, []byte("new default\n"), 0o644); err != nil {
		return err
	}
	if err := run(e.Ostree, append([]string{repo, "commit", "-b", "bench/new", "--add-metadata-string=version=2", "--tree=dir=" + tree}, commitFlags()...)...); err != nil {
		return err
	}
	return removeAll(tree)
}

// buildSysroot10: a small OS tree deployed ten times (one commit per
// deployment, --retain), for the status and rollback rows.
func (e *env) buildSysroot10() error {
	sr := e.sysroot10()
	if err := os.MkdirAll(sr, 0o755); err != nil {
		return err
	}
	if err := run(e.Ostree, "admin", "init-fs", "--modern", sr); err != nil {
		return err
	}
	if err := e.admin(sr, "os-init", "bench"); err != nil {
		return err
	}
	tree := filepath.Join(e.Fx, "small-os")
	files := map[string]string{
		"usr/lib/modules/6.1.0-bench/vmlinuz":       "a bench kernel\n",
		"usr/lib/modules/6.1.0-bench/initramfs.img": "a bench initramfs\n",
		"usr/etc/os-release":                        "ID=bench\nPRETTY_NAME=\"Bench OS\"\n",
		"usr/etc/hostname":                          "bench\n",
		"usr/bin/sh":                                "sh\n",
	}
	for name, content := range files {
		p := filepath.Join(tree, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	repo := "--repo=" + filepath.Join(sr, "ostree/repo")
	for i := range 10 {
		if err := os.WriteFile(filepath.Join(tree, "usr/bin/version"), []byte(fmt.Sprintf("%d\n", i)), 0o644); err != nil {
			return err
		}
		if err := run(e.Ostree, repo, "commit", "-b", "bench/small", fmt.Sprintf("--add-metadata-string=version=%d", i),
			"--tree=dir="+tree, fmt.Sprintf("--timestamp=@%d", 1700000000+i), "-s", benchSubject); err != nil {
			return err
		}
		if err := e.admin(sr, "deploy", "--os=bench", "--retain", "bench/small"); err != nil {
			return err
		}
	}
	return removeAll(tree)
}
