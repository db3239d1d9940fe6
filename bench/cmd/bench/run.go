package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// measurement is one timed execution of a row's command list by one tool.
type measurement struct {
	Wall   time.Duration // sum over the row's commands
	MaxRSS int64         // bytes; max over the row's commands
	Stdout string        // sha256 of the last command's standard output
	Size   int64         // the row's Size of what the run wrote, if it has one
	Err    error
}

// cmdEnv is the environment both tools run in: the same locale and time
// zone so that printed dates and sort orders compare.
func cmdEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "OSTREE_REPO="), strings.HasPrefix(kv, "TZ="),
			strings.HasPrefix(kv, "LC_ALL="), strings.HasPrefix(kv, "LANG="):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TZ=UTC", "LC_ALL=C.UTF-8", "LANG=C.UTF-8")
}

// execTimed runs bin with each argument list in turn, in dir, and measures
// wall time (from start to wait, nothing else) and peak RSS. The last
// command's standard output is written to dir/stdout and hashed.
func execTimed(ctx context.Context, bin string, cmds [][]string, dir string, extraEnv []string) measurement {
	var m measurement
	for i, args := range cmds {
		out := io.Discard
		var outFile *os.File
		if i == len(cmds)-1 {
			f, err := os.Create(filepath.Join(dir, "stdout"))
			if err != nil {
				m.Err = err
				return m
			}
			outFile, out = f, f
		}
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		cmd.Env = append(cmdEnv(), extraEnv...)
		cmd.Stdout = out
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		m.Wall += time.Since(start)
		if outFile != nil {
			outFile.Close()
		}
		if cmd.ProcessState != nil {
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss*1024 > m.MaxRSS {
				m.MaxRSS = ru.Maxrss * 1024 // Linux reports KiB
			}
		}
		if err != nil {
			msg := firstLine(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			m.Err = fmt.Errorf("%s: %s", strings.Join(args, " "), msg)
			return m
		}
	}
	m.Stdout = hashFile(filepath.Join(dir, "stdout"))
	return m
}

// run runs an untimed helper command (fixtures, setup) and fails loudly.
func run(bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.Env = cmdEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), strings.Join(args, " "), err, firstLine(string(out)))
	}
	return nil
}

func hashFile(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func nlink(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// linkCopyRepo copies an OSTree repository cheaply: files under objects/
// are hard-linked (they are immutable), everything else (config, refs,
// state, the lock file) is copied so the copy shares no mutable inode with
// the original.
func linkCopyRepo(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch t := d.Type(); {
		case t.IsDir():
			return os.MkdirAll(target, fi.Mode().Perm())
		case t&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case t.IsRegular():
			if rel == "objects" || strings.HasPrefix(rel, "objects"+string(filepath.Separator)) {
				return os.Link(p, target)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, fi.Mode().Perm())
		}
		return nil
	})
}

// removeAll removes a scratch tree, making read-only directories writable
// first when running unprivileged.
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
