package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// treeMeta describes how a cached benchmark tree was made. It is stored
// beside the tree (never inside it, so it is not committed).
type treeMeta struct {
	Source  string    `json:"source"`  // "debootstrap minbase bookworm" or "GOROOT copy"
	Mirror  string    `json:"mirror"`  // debootstrap mirror, if any
	Removed []string  `json:"removed"` // entries removed because ostree cannot commit them
	Created time.Time `json:"created"`
}

// treeStats counts what a tree holds.
type treeStats struct {
	Files, Dirs, Symlinks, Other int
	Bytes                        int64 // sum of regular file sizes
	Hardlinks                    int   // regular files with st_nlink > 1 (counted per path)
}

func statTree(dir string) (treeStats, error) {
	var s treeStats
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch t := d.Type(); {
		case t.IsDir():
			if p != dir {
				s.Dirs++
			}
		case t.IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			s.Files++
			s.Bytes += fi.Size()
			if nlink(fi) > 1 {
				s.Hardlinks++
			}
		case t&fs.ModeSymlink != 0:
			s.Symlinks++
		default:
			s.Other++
		}
		return nil
	})
	return s, err
}

// prepareTree returns the benchmark tree, making and caching it in cacheDir
// on first use: a debootstrap minbase bookworm root filesystem, or, when
// debootstrap cannot run, a copy of GOROOT.
func prepareTree(cacheDir string) (string, treeMeta, error) {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", treeMeta{}, err
	}
	for _, name := range []string{"rootfs", "goroot"} {
		dir := filepath.Join(cacheDir, name)
		if m, err := readMeta(dir + ".json"); err == nil {
			if _, err := os.Stat(dir); err == nil {
				return dir, m, nil
			}
		}
	}
	dir, m, err := debootstrapTree(cacheDir)
	if err == nil {
		return dir, m, nil
	}
	logf("debootstrap failed (%v); falling back to a copy of GOROOT", err)
	return gorootTree(cacheDir)
}

func readMeta(path string) (treeMeta, error) {
	var m treeMeta
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

func writeMeta(path string, m treeMeta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func debootstrapTree(cacheDir string) (string, treeMeta, error) {
	if _, err := exec.LookPath("debootstrap"); err != nil {
		if os.Geteuid() != 0 {
			return "", treeMeta{}, errors.New("debootstrap not installed and not root")
		}
		logf("installing debootstrap with apt-get")
		if err := runQuiet("apt-get", "install", "-y", "debootstrap"); err != nil {
			if err := runQuiet("apt-get", "update"); err != nil {
				return "", treeMeta{}, fmt.Errorf("apt-get update: %w", err)
			}
			if err := runQuiet("apt-get", "install", "-y", "debootstrap"); err != nil {
				return "", treeMeta{}, fmt.Errorf("apt-get install debootstrap: %w", err)
			}
		}
	}
	mirror := aptMirror()
	tmp := filepath.Join(cacheDir, "rootfs.tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return "", treeMeta{}, err
	}
	logPath := filepath.Join(cacheDir, "debootstrap.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", treeMeta{}, err
	}
	defer logFile.Close()
	logf("debootstrap --variant=minbase bookworm %s %s (one-time; log in %s)", tmp, mirror, logPath)
	cmd := exec.Command("debootstrap", "--variant=minbase", "bookworm", tmp, mirror)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Run(); err != nil {
		return "", treeMeta{}, fmt.Errorf("debootstrap: %w (see %s)", err, logPath)
	}
	removed, err := sanitize(tmp)
	if err != nil {
		return "", treeMeta{}, err
	}
	dir := filepath.Join(cacheDir, "rootfs")
	if err := os.RemoveAll(dir); err != nil {
		return "", treeMeta{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", treeMeta{}, err
	}
	m := treeMeta{Source: "debootstrap --variant=minbase bookworm", Mirror: mirror, Removed: removed, Created: time.Now().UTC()}
	return dir, m, writeMeta(dir+".json", m)
}

func gorootTree(cacheDir string) (string, treeMeta, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", treeMeta{}, fmt.Errorf("go env GOROOT: %w", err)
	}
	goroot := strings.TrimSpace(string(out))
	dir := filepath.Join(cacheDir, "goroot")
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	logf("copying %s to %s", goroot, tmp)
	if err := runQuiet("cp", "-a", goroot, tmp); err != nil {
		return "", treeMeta{}, err
	}
	removed, err := sanitize(tmp)
	if err != nil {
		return "", treeMeta{}, err
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", treeMeta{}, err
	}
	m := treeMeta{Source: "copy of GOROOT " + goroot, Removed: removed, Created: time.Now().UTC()}
	return dir, m, writeMeta(dir+".json", m)
}

// sanitize removes what ostree commit refuses: device nodes, FIFOs and
// sockets. It returns the removed paths, relative to dir.
func sanitize(dir string) ([]string, error) {
	var removed []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		t := d.Type()
		if t&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) == 0 {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		kind := "device"
		switch {
		case t&fs.ModeCharDevice != 0:
			kind = "char device"
		case t&fs.ModeNamedPipe != 0:
			kind = "fifo"
		case t&fs.ModeSocket != 0:
			kind = "socket"
		}
		removed = append(removed, "/"+rel+" ("+kind+")")
		return os.Remove(p)
	})
	sort.Strings(removed)
	return removed, err
}

// aptMirror returns the Debian mirror this machine's apt already uses.
func aptMirror() string {
	const fallback = "http://deb.debian.org/debian"
	var files []string
	files = append(files, "/etc/apt/sources.list")
	more, _ := filepath.Glob("/etc/apt/sources.list.d/*")
	files = append(files, more...)
	for _, f := range files {
		if !strings.HasSuffix(f, ".list") && !strings.HasSuffix(f, ".sources") {
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			var uris []string
			switch {
			case strings.HasPrefix(line, "URIs:"):
				uris = strings.Fields(strings.TrimPrefix(line, "URIs:"))
			case strings.HasPrefix(line, "deb "):
				fields := strings.Fields(line)[1:]
				for len(fields) > 0 && strings.HasPrefix(fields[0], "[") {
					for len(fields) > 0 && !strings.HasSuffix(fields[0], "]") {
						fields = fields[1:]
					}
					if len(fields) > 0 {
						fields = fields[1:]
					}
				}
				if len(fields) > 0 {
					uris = fields[:1]
				}
			}
			for _, u := range uris {
				if strings.Contains(u, "security") || strings.Contains(u, "ports") {
					continue
				}
				if strings.HasSuffix(strings.TrimRight(u, "/"), "/debian") {
					fh.Close()
					return strings.TrimRight(u, "/")
				}
			}
		}
		fh.Close()
	}
	return fallback
}

func runQuiet(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, firstLine(string(out)))
	}
	return nil
}
