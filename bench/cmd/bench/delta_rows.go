package main

// Static delta rows (issue 16): generation time at GOMAXPROCS 1, 2 and
// all, total delta size against ostree's, apply-offline time, and
// generation time and peak RSS on a 1 GB changed file.
//
// The "upgraded" tree is the bench tree with a reproducible upgrade
// applied (upgradeCheckout): every ELF file or shared library whose path
// hashes to 0 mod 6 is "rebuilt" (64 bytes inserted at a third of its
// length, one byte in every 4 KiB bumped, as relinked code shifts
// addresses, and 200 bytes appended), every text file under usr/share
// hashing to 0 mod 9 gets a line changed and one appended, usr/share/man
// goes away, and a new package is added (20 of the tree's libraries
// copied under new names with edits). Nothing is downloaded; the same
// tree gives the same upgrade.

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

func (e *env) up() string       { return filepath.Join(e.Fx, "upgrade") }
func (e *env) bigDelta() string { return filepath.Join(e.Fx, "bigdelta") }

func pathHash(p string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(p))
	return h.Sum32()
}

// rewrite replaces p by a new file with data (hard links to repository
// objects are left alone), keeping its mode.
func rewrite(p string, data []byte) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	tmp := p + ".bench-tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func upgradeCheckout(co string) error {
	if err := removeAll(filepath.Join(co, "usr/share/man")); err != nil {
		return err
	}
	var libs []string
	err := filepath.WalkDir(filepath.Join(co, "usr"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(co, p)
		h := pathHash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		isELF := bytes.HasPrefix(b, []byte("\x7fELF"))
		if isELF && strings.Contains(rel, ".so") && len(libs) < 20 && h%5 == 1 {
			libs = append(libs, p)
		}
		switch {
		case isELF && h%6 == 0 && len(b) > 4096:
			r := rand.New(rand.NewPCG(uint64(h), 1))
			at := len(b) / 3
			ins := make([]byte, 64)
			for i := range ins {
				ins[i] = byte(r.IntN(256))
			}
			nb := append(append(append([]byte{}, b[:at]...), ins...), b[at:]...)
			for i := 100; i < len(nb); i += 4096 {
				nb[i]++
			}
			nb = append(nb, bytes.Repeat([]byte{0x90}, 200)...)
			return rewrite(p, nb)
		case !isELF && strings.HasPrefix(rel, "usr/share/") && h%9 == 0 && len(b) > 0:
			nb := bytes.Replace(b, []byte("\n"), []byte("\n# upgraded\n"), 1)
			return rewrite(p, append(nb, "# grove bench upgrade\n"...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	pkg := filepath.Join(co, "usr/lib/grove-bench-pkg")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		return err
	}
	for i, l := range libs {
		b, err := os.ReadFile(l)
		if err != nil {
			return err
		}
		b = append(b, []byte("grove-bench-pkg "+strconv.Itoa(i))...)
		if err := os.WriteFile(filepath.Join(pkg, filepath.Base(l)+".2"), b, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// buildUpgrade adds ref "upgraded" to the archive fixture, and a delta
// base→upgraded made by ostree (for the apply row) under Fx/upgrade.
func (e *env) buildUpgrade() error {
	bu, ar := e.bu(), e.ar()
	co := filepath.Join(e.Fx, "co-upgraded")
	if err := run(e.Ostree, "--repo="+bu, "checkout", "-U", "-H", "base", co); err != nil {
		return err
	}
	if err := upgradeCheckout(co); err != nil {
		return err
	}
	if err := run(e.Ostree, append([]string{"--repo=" + bu, "commit", "--link-checkout-speedup", "-b", "upgraded", "--tree=dir=" + co}, commitFlags()...)...); err != nil {
		return err
	}
	if err := removeAll(co); err != nil {
		return err
	}
	if err := run(e.Ostree, "--repo="+ar, "pull-local", bu, "upgraded"); err != nil {
		return err
	}
	if err := os.MkdirAll(e.up(), 0o755); err != nil {
		return err
	}
	return run(e.Ostree, "--repo="+ar, "static-delta", "generate", "--from=base", "--to=upgraded", "--filename="+filepath.Join(e.up(), "superblock"))
}

// buildBigDelta makes a bare-user repository whose ref big2 changes 16
// kilobytes spread through a 1 GB file of ref big1.
func (e *env) buildBigDelta() error {
	repo := e.bigDelta()
	if err := run(e.Ostree, "init", "--mode=bare-user", "--repo="+repo); err != nil {
		return err
	}
	dir := filepath.Join(e.Fx, "bigdelta-tree")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	const size = 1 << 30
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(42, 42))
	for i := 0; i+8 <= size; i += 8 {
		// Compressible but not trivially: small words.
		binary.LittleEndian.PutUint64(b[i:], r.Uint64()&0x0f0f0f0f0f0f0f0f)
	}
	f := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		return err
	}
	if err := run(e.Ostree, append([]string{"--repo=" + repo, "commit", "-b", "big1", "--tree=dir=" + dir}, commitFlags()...)...); err != nil {
		return err
	}
	for k := range 16 {
		copy(b[k*(size/16)+12345:], bytes.Repeat([]byte("changed!"), 128))
	}
	if err := rewrite(f, b); err != nil {
		return err
	}
	b = nil
	if err := run(e.Ostree, append([]string{"--repo=" + repo, "commit", "-b", "big2", "--tree=dir=" + dir}, commitFlags()...)...); err != nil {
		return err
	}
	return removeAll(dir)
}

// deltaSize is the size of the delta a run wrote into dir/out.
func deltaSize(dir string) int64 {
	var n int64
	filepath.WalkDir(filepath.Join(dir, "out"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func mkOut(e *env, dir string) error { return os.MkdirAll(filepath.Join(dir, "out"), 0o755) }

func deltaRows() []row {
	gen := func(e *env, dir string) [][]string {
		return [][]string{{"--repo=" + e.ar(), "static-delta", "generate", "--from=base", "--to=upgraded", "--filename=out/superblock"}}
	}
	var out []row
	procs := []int{1, 2}
	if n := runtime.NumCPU(); n > 2 {
		procs = append(procs, n)
	}
	for _, procs := range procs {
		name := "static-delta generate base→upgraded, GOMAXPROCS=" + strconv.Itoa(procs)
		if procs == runtime.NumCPU() {
			name += " (all)"
		}
		target := 0.5
		if procs == 1 {
			target = 1.0 // one core against ostree's one thread
		}
		out = append(out, row{
			Name: name, Target: target, Fixtures: []string{"upgrade"},
			Setup: mkOut, Cmds: gen, GroveEnv: []string{"GOMAXPROCS=" + strconv.Itoa(procs)},
			Size: deltaSize, SizeTarget: 1.05,
		})
	}
	out = append(out,
		row{
			Name: "static-delta generate --empty upgraded", Target: 0.5, Fixtures: []string{"upgrade"},
			Setup: mkOut,
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=" + e.ar(), "static-delta", "generate", "--empty", "--to=upgraded", "--filename=out/superblock"}}
			},
			Size: deltaSize, SizeTarget: 1.05,
		},
		row{
			Name: "static-delta apply-offline base→upgraded → bare-user", Target: 0.5, Fixtures: []string{"upgrade"},
			Setup: func(e *env, dir string) error {
				repo := filepath.Join(dir, "repo")
				if err := linkCopyRepo(e.bu(), repo); err != nil {
					return err
				}
				// Keep base only: the upgraded objects must come from the delta.
				if err := run(e.Ostree, "--repo="+repo, "refs", "--delete", "upgraded"); err != nil {
					return err
				}
				return run(e.Ostree, "--repo="+repo, "prune", "--refs-only")
			},
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=repo", "static-delta", "apply-offline", filepath.Join(e.up(), "superblock")}}
			},
		},
		row{
			Name: "static-delta generate, 1 GB file changed", Target: 1.0, Fixtures: []string{"bigdelta"},
			Setup: mkOut,
			Cmds: func(e *env, dir string) [][]string {
				return [][]string{{"--repo=" + e.bigDelta(), "static-delta", "generate", "--from=big1", "--to=big2", "--min-fallback-size=0", "--filename=out/superblock"}}
			},
			Size: deltaSize, SizeTarget: 1.05,
		},
	)
	return out
}
