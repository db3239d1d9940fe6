package compose_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/repotest"
	"golang.org/x/sys/unix"
)

func setxattr(path, name, value string) error { return unix.Setxattr(path, name, []byte(value), 0) }

// ent is one hand-made tar entry; xattrs are written as SCHILY.xattr PAX
// records (archive/tar writes those sorted by name).
type ent struct {
	name, link string
	typ        byte
	mode       int64
	uid, gid   int
	body       string
	xattrs     map[string]string
}

func mkTar(t testing.TB, format tar.Format, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			ModTime: time.Unix(1577836800, 0), Format: format}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if h.Typeflag == tar.TypeChar {
			h.Devmajor, h.Devminor = 1, 3
		}
		if len(e.xattrs) > 0 {
			h.PAXRecords = map[string]string{}
			for k, v := range e.xattrs {
				h.PAXRecords["SCHILY.xattr."+k] = v
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func compress(t testing.TB, kind string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch kind {
	case "plain":
		return data
	case "gzip":
		w := kgzip.NewWriter(&buf)
		w.Write(data)
		w.Close()
	case "xz":
		w, err := xz.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
	case "zstd":
		w, _ := zstd.NewWriter(&buf)
		w.Write(data)
		w.Close()
	case "bzip2":
		cmd := exec.Command("bzip2", "-c")
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Skipf("bzip2: %v", err)
		}
		return out
	default:
		t.Fatalf("unknown compression %s", kind)
	}
	return buf.Bytes()
}

// modFlags are the commit modifier flags of one cross-check and their
// Modifier equivalent.
type modFlags struct {
	name  string
	args  func(dir string) []string
	build func() *compose.Modifier
}

var plainMod = modFlags{name: "none", args: func(string) []string { return nil }, build: compose.NoModifier}

// crossCheck commits tarball with the real ostree and with ImportTar into
// repos of the same mode and demands the same commit checksum (or that both
// fail); the grove repo must pass `ostree fsck`.
func crossCheck(t *testing.T, mode repo.Mode, tarball []byte, mf modFlags) (string, error) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	f := filepath.Join(dir, "in.tar")
	if err := os.WriteFile(f, tarball, 0o644); err != nil {
		t.Fatal(err)
	}
	orepo := filepath.Join(dir, "ostree-repo")
	repotest.Ostree(t, "init", "--repo="+orepo, "--mode="+mode.String())
	args := append([]string{"--repo=" + orepo, "commit", "--tree=tar=" + f, "--tar-autocreate-parents",
		"--timestamp=@1577836800", "-s", "s", "--orphan", "--no-bindings"}, mf.args(dir)...)
	out, oerr := repotest.OstreeErr(t, args...)
	out = strings.TrimSpace(out)

	r := repotest.NewRepo(t, mode)
	tx, err := r.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod := mf.build()
	sum, gerr := func() (string, error) {
		root, err := compose.ImportTar(ctx, tx, bytes.NewReader(tarball), compose.ImportOptions{Modifier: mod})
		if err != nil {
			return "", err
		}
		if u := mod.Unmatched(); len(u) > 0 {
			return "", fmt.Errorf("unmatched %v", u)
		}
		s, _, err := compose.WriteCommit(ctx, tx, root, compose.CommitOptions{Subject: "s", Timestamp: time.Unix(1577836800, 0)})
		return s.String(), err
	}()
	if gerr != nil {
		tx.Abort()
		if oerr == nil {
			t.Fatalf("grove failed (%v) where ostree committed %s", gerr, out)
		}
		return "", gerr
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if oerr != nil {
		t.Fatalf("ostree failed (%v: %s) where grove committed %s", oerr, out, sum)
	}
	if sum != out {
		t.Errorf("commit = %s, ostree = %s", sum, out)
		t.Logf("ostree:\n%s", repotest.Ostree(t, "--repo="+orepo, "ls", "-RX", out))
		t.Logf("grove:\n%s", repotest.Ostree(t, "--repo="+r.Path(), "ls", "-RX", sum))
	}
	// ostree's own repo can fail fsck: in bare modes the xattrs read back
	// from disk come in another order than libarchive gave them.
	if _, err := repotest.OstreeErr(t, "--repo="+orepo, "fsck", "-q"); err != nil {
		if _, gerr := repotest.OstreeErr(t, "--repo="+r.Path(), "fsck", "-q"); gerr == nil {
			t.Errorf("%s: ostree's repo fails fsck (%v), grove's passes", mode, err)
		}
		return sum, nil
	}
	repotest.Ostree(t, "--repo="+r.Path(), "fsck", "-q")
	return sum, nil
}

var big = strings.Repeat("0123456789abcdef", (1<<20)/16+1000) // > 1 MiB
var huge = strings.Repeat("grove tar import ", (5<<20)/17)    // > the buffered size

// tarCases are the odd archives ostree's import has rules for.
var tarCases = []struct {
	name string
	tar  func(t testing.TB) []byte
}{
	{"dot-prefixed with root", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX,
			ent{name: "./", typ: tar.TypeDir, mode: 0o755},
			ent{name: "./usr/", typ: tar.TypeDir, mode: 0o700, uid: 5, gid: 6},
			ent{name: "./usr/bin/", typ: tar.TypeDir, mode: 0o755},
			ent{name: "./usr/bin/sh", mode: 0o755, body: "#!/bin/sh\n"},
			ent{name: "./usr/bin/empty", mode: 0o644},
			ent{name: "./usr/bin/link", typ: tar.TypeSymlink, link: "sh", mode: 0o777})
	}},
	{"bare paths no root", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX,
			ent{name: "etc/", typ: tar.TypeDir, mode: 0o750, uid: 1},
			ent{name: "etc/passwd", mode: 0o644, body: "root:x:0:0\n"},
			ent{name: "top", mode: 0o600, body: "top"})
	}},
	{"only files at top", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX, ent{name: "a", mode: 0o644, body: "a"}, ent{name: "b", mode: 0o640, uid: 7, body: "b"})
	}},
	{"empty archive", func(t testing.TB) []byte { return mkTar(t, tar.FormatPAX) }},
	{"absolute paths", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatGNU,
			ent{name: "/", typ: tar.TypeDir, mode: 0o755},
			ent{name: "/usr/", typ: tar.TypeDir, mode: 0o755},
			ent{name: "//usr//lib/x", mode: 0o644, body: "x"},
			ent{name: "/../etc/y", mode: 0o644, body: "y"})
	}},
	{"missing parents reset root and ancestors", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX,
			ent{name: "./", typ: tar.TypeDir, mode: 0o700, uid: 3, gid: 3},
			ent{name: "./a/", typ: tar.TypeDir, mode: 0o711, uid: 4, gid: 4},
			ent{name: "./a/b/c/d", mode: 0o644, uid: 9, gid: 10, body: "deep"},
			ent{name: "./x/y", mode: 0o644, uid: 11, gid: 12, body: "y"})
	}},
	{"explicit dir after implicit", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX,
			ent{name: "a/b/f", mode: 0o644, uid: 9, gid: 9, body: "f"},
			ent{name: "a/b/", typ: tar.TypeDir, mode: 0o700, uid: 1, gid: 2},
			ent{name: "a/", typ: tar.TypeDir, mode: 0o750, uid: 3, gid: 4})
	}},
	{"duplicates later wins", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX,
			ent{name: "d/", typ: tar.TypeDir, mode: 0o755},
			ent{name: "d/f", mode: 0o644, body: "first"},
			ent{name: "d/f", mode: 0o600, body: "second"},
			ent{name: "d/", typ: tar.TypeDir, mode: 0o700},
			ent{name: "d/s", typ: tar.TypeSymlink, link: "x", mode: 0o777},
			ent{name: "d/s", mode: 0o644, body: "now a file"})
	}},
	{"hardlinks", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX,
			ent{name: "bin/", typ: tar.TypeDir, mode: 0o755},
			ent{name: "bin/a", mode: 0o755, uid: 2, body: "payload"},
			ent{name: "bin/b", typ: tar.TypeLink, link: "bin/a", mode: 0o600},
			ent{name: "other/c", typ: tar.TypeLink, link: "./bin/a", mode: 0o600},
			ent{name: "bin/early", typ: tar.TypeLink, link: "bin/late", mode: 0o644},
			ent{name: "bin/late", mode: 0o644, body: "late"},
			ent{name: "bin/a", mode: 0o755, body: "replaced"})
	}},
	{"pax long names", func(t testing.TB) []byte {
		long := strings.Repeat("d", 90) + "/" + strings.Repeat("n", 120)
		return mkTar(t, tar.FormatPAX,
			ent{name: long, mode: 0o644, body: "long"},
			ent{name: "l/" + strings.Repeat("s", 150), typ: tar.TypeSymlink, link: strings.Repeat("t/", 80), mode: 0o777})
	}},
	{"gnu long names", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatGNU,
			ent{name: strings.Repeat("g", 200), mode: 0o644, body: "gnu"},
			ent{name: "h/" + strings.Repeat("h", 140), typ: tar.TypeLink, link: strings.Repeat("g", 200)})
	}},
	{"xattrs", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX,
			ent{name: "./", typ: tar.TypeDir, mode: 0o755, xattrs: map[string]string{"user.root": "r"}},
			ent{name: "d/", typ: tar.TypeDir, mode: 0o755, xattrs: map[string]string{"user.b": "2", "user.a": "1"}},
			ent{name: "d/f", mode: 0o644, body: "x", xattrs: map[string]string{"user.z": "z", "user.m": "m\x00bin", "security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00"}},
			ent{name: "d/s", typ: tar.TypeSymlink, link: "f", mode: 0o777, xattrs: map[string]string{"user.l": "l"}})
	}},
	{"setuid and odd modes", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX,
			ent{name: "su", mode: 0o4755, body: "su"},
			ent{name: "sg", mode: 0o2711, body: "sg"},
			ent{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
			ent{name: "none", mode: 0, body: "none"})
	}},
	{"big files", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX,
			ent{name: "big", mode: 0o644, body: big},
			ent{name: "huge", mode: 0o644, body: huge},
			ent{name: "huge2", typ: tar.TypeLink, link: "huge"})
	}},
	{"large ids", func(t testing.TB) []byte {
		return mkTar(t, tar.FormatPAX, ent{name: "f", mode: 0o644, uid: 3000000, gid: 4000000, body: "ids"})
	}},
}

func TestImportTarMatchesOstree(t *testing.T) {
	repotest.NeedOstree(t)
	for _, tc := range tarCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := tc.tar(t)
			for _, mode := range repotest.Modes {
				t.Run(mode.String(), func(t *testing.T) {
					crossCheck(t, mode, data, plainMod)
				})
			}
		})
	}
}

func TestImportTarEveryCompression(t *testing.T) {
	repotest.NeedOstree(t)
	data := tarCases[0].tar(t)
	data2 := tarCases[13].tar(t) // big files: multi-block compressed streams
	for _, kind := range []string{"plain", "gzip", "xz", "zstd", "bzip2"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			crossCheck(t, repo.ModeArchive, compress(t, kind, data), plainMod)
			crossCheck(t, repo.ModeBare, compress(t, kind, data2), plainMod)
		})
	}
}

// Tarballs made by GNU tar from a real tree (with xattrs in listxattr
// order, hardlinks, a root entry or not) in each compression.
func TestImportTarFromGNUTar(t *testing.T) {
	repotest.NeedOstree(t)
	src := t.TempDir() + "/src"
	repotest.RichTree(t, src)
	os.MkdirAll(src+"/x", 0o755)
	repotest.WriteFile(t, src+"/x/f", "xattr file\n", 0o644)
	os.Link(src+"/x/f", src+"/x/hard")
	for _, x := range []struct{ name, val string }{{"user.b", "2"}, {"user.a", "1"}, {"user.c", "3"}} {
		if err := setxattr(src+"/x/f", x.name, x.val); err != nil {
			t.Skipf("user xattrs unsupported: %v", err)
		}
	}
	// RichTree may hold a device node or FIFO that tar stores; drop those.
	filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode()&(os.ModeDevice|os.ModeNamedPipe|os.ModeSocket) != 0 {
			os.Remove(p)
		}
		return nil
	})
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"dot gzip", []string{"--xattrs", "-czf", "T", "-C", src, "."}},
		{"bare xz", []string{"--xattrs", "-cJf", "T", "-C", src, "x", "."}},
		{"zstd", []string{"--xattrs", "--zstd", "-cf", "T", "-C", src, "."}},
		{"plain no xattrs", []string{"-cf", "T", "-C", src, "."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := t.TempDir() + "/t.tar"
			args := append([]string{}, tc.args...)
			for i := range args {
				if args[i] == "T" {
					args[i] = f
				}
			}
			if out, err := exec.Command("tar", args...).CombinedOutput(); err != nil {
				t.Skipf("tar: %v\n%s", err, out)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, mode := range []repo.Mode{repo.ModeArchive, repo.ModeBare} {
				crossCheck(t, mode, data, plainMod)
			}
		})
	}
}

func TestImportTarModifierMatchesOstree(t *testing.T) {
	repotest.NeedOstree(t)
	data := mkTar(t, tar.FormatPAX,
		ent{name: "./", typ: tar.TypeDir, mode: 0o755, uid: 1},
		ent{name: "usr/", typ: tar.TypeDir, mode: 0o775, uid: 5, gid: 5, xattrs: map[string]string{"user.d": "d"}},
		ent{name: "usr/bin/su", mode: 0o4755, uid: 5, body: "su", xattrs: map[string]string{"user.f": "f"}},
		ent{name: "usr/bin/sh", mode: 0o700, body: "sh"},
		ent{name: "usr/skipped/", typ: tar.TypeDir, mode: 0o700},
		ent{name: "usr/skipped/child", mode: 0o644, body: "kept"},
		ent{name: "usr/gone", mode: 0o644, body: "gone"},
		ent{name: "dev/null", typ: tar.TypeChar, mode: 0o666},
		ent{name: "hard", typ: tar.TypeLink, link: "usr/bin/sh", mode: 0o644})
	write := func(dir, name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	cases := []modFlags{
		{"owner", func(string) []string { return []string{"--owner-uid=0", "--owner-gid=0"} },
			func() *compose.Modifier { m := compose.NoModifier(); m.OwnerUID, m.OwnerGID = 0, 0; return m }},
		{"canonical", func(string) []string { return []string{"--canonical-permissions"} },
			func() *compose.Modifier { m := compose.NoModifier(); m.CanonicalPermissions = true; return m }},
		{"no-xattrs", func(string) []string { return []string{"--no-xattrs"} },
			func() *compose.Modifier { m := compose.NoModifier(); m.SkipXattrs = true; return m }},
		{"statoverride", func(dir string) []string {
			return []string{"--statoverride=" + write(dir, "so", "2048 /usr/bin/sh\n1024 /usr\n64 /hard\n")}
		}, func() *compose.Modifier {
			m := compose.NoModifier()
			m.ModeAdd = map[string]uint32{"/usr/bin/sh": 2048, "/usr": 1024, "/hard": 64}
			return m
		}},
	}
	skipDev := func(base modFlags) modFlags {
		return modFlags{base.name + "+skip", func(dir string) []string {
			return append(base.args(dir), "--skip-list="+write(dir, "skip", "/dev/null\n/usr/skipped\n/usr/gone\n"))
		}, func() *compose.Modifier {
			m := base.build()
			m.Skip = map[string]bool{"/dev/null": true, "/usr/skipped": true, "/usr/gone": true}
			return m
		}}
	}
	for _, base := range append(cases, plainMod) {
		mf := skipDev(base)
		t.Run(mf.name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range repotest.Modes {
				t.Run(mode.String(), func(t *testing.T) { crossCheck(t, mode, data, mf) })
			}
		})
	}
}

func TestImportTarRefusesBadEntries(t *testing.T) {
	repotest.NeedOstree(t)
	good := mkTar(t, tar.FormatPAX, ent{name: "a/", typ: tar.TypeDir, mode: 0o755}, ent{name: "a/f", mode: 0o644, body: strings.Repeat("x", 5000)})
	for _, tc := range []struct {
		name, want string
		data       []byte
		is         error
		noOstree   bool // ostree 2022.7 loops forever on it
	}{
		{"dotdot", `"../x"`, mkTar(t, tar.FormatPAX, ent{name: "../x", mode: 0o644, body: "x"}), compose.ErrBadPath, false},
		{"escape", `"a/../../x"`, mkTar(t, tar.FormatPAX, ent{name: "a/../../x", mode: 0o644, body: "x"}), compose.ErrBadPath, false},
		{"inner dotdot", `"./b/../c"`, mkTar(t, tar.FormatPAX, ent{name: "./b/../c", typ: tar.TypeDir, mode: 0o755}), compose.ErrBadPath, false},
		{"char device", `"dev/null": character device`, mkTar(t, tar.FormatPAX, ent{name: "dev/null", typ: tar.TypeChar, mode: 0o666}), compose.ErrUnsupported, false},
		{"fifo", `"p": FIFO`, mkTar(t, tar.FormatPAX, ent{name: "p", typ: tar.TypeFifo, mode: 0o644}), compose.ErrUnsupported, false},
		{"truncated", `"a/f"`, good[:len(good)-2048], compose.ErrTar, true},
		{"truncated gzip", "unexpected EOF", halve(compress(t, "gzip", good)), compose.ErrTar, false},
		{"garbage", "invalid tar header", bytes.Repeat([]byte("garbage!"), 200), compose.ErrTar, false},
		{"missing hardlink target", "nothere", mkTar(t, tar.FormatPAX, ent{name: "l", typ: tar.TypeLink, link: "nothere"}), compose.ErrBadPath, false},
		{"file over dir", "can't replace directory", mkTar(t, tar.FormatPAX, ent{name: "d/", typ: tar.TypeDir, mode: 0o755}, ent{name: "d", mode: 0o644}), compose.ErrConflict, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range []repo.Mode{repo.ModeArchive, repo.ModeBare} {
				r := repotest.NewRepo(t, mode)
				before := listObjects(t, r.Path())
				var err error
				if tc.noOstree {
					tx, _ := r.Begin(context.Background())
					_, err = compose.ImportTar(context.Background(), tx, bytes.NewReader(tc.data), compose.ImportOptions{})
					tx.Abort()
				} else {
					_, err = crossCheck(t, mode, tc.data, plainMod)
				}
				if err == nil {
					t.Fatalf("import succeeded")
				}
				if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error = %v, want %v naming %s", err, tc.is, tc.want)
				}
				// An aborted import leaves the repository as it was.
				ctx := context.Background()
				tx, _ := r.Begin(ctx)
				if _, err := compose.ImportTar(ctx, tx, bytes.NewReader(tc.data), compose.ImportOptions{}); err == nil {
					t.Fatal("second import succeeded")
				}
				if err := tx.Abort(); err != nil {
					t.Fatal(err)
				}
				if after := listObjects(t, r.Path()); after != before {
					t.Errorf("objects changed by an aborted import:\n%s\n---\n%s", before, after)
				}
				repotest.Ostree(t, "--repo="+r.Path(), "fsck", "-q")
			}
		})
	}
}

func halve(b []byte) []byte { return b[:len(b)/2] }

func listObjects(t *testing.T, path string) string {
	var out []string
	filepath.Walk(path, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.Contains(p, "/tmp/") {
			out = append(out, strings.TrimPrefix(p, path))
		}
		return nil
	})
	return strings.Join(out, "\n")
}

// A tarball of a directory gives ImportDir's root when the metadata agree.
func TestImportTarSameRootAsImportDir(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir() + "/src"
	for _, p := range []string{"", "/usr", "/usr/bin", "/etc"} {
		os.MkdirAll(src+p, 0o755)
		os.Chmod(src+p, 0o755)
	}
	repotest.WriteFile(t, src+"/usr/bin/sh", "#!/bin/sh\n", 0o755)
	repotest.WriteFile(t, src+"/etc/os-release", "ID=grove\n", 0o644)
	os.Symlink("../usr/bin/sh", src+"/etc/sh")
	f := t.TempDir() + "/t.tar"
	if out, err := exec.Command("tar", "--numeric-owner", "-cf", f, "-C", src, ".").CombinedOutput(); err != nil {
		t.Skipf("tar: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(f)
	for _, mode := range repotest.Modes {
		t.Run(mode.String(), func(t *testing.T) {
			r := repotest.NewRepo(t, mode)
			tx, err := r.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Abort()
			mod := func() *compose.Modifier { m := compose.NoModifier(); m.SkipXattrs = true; return m }
			fromDir, err := compose.ImportDir(ctx, tx, src, compose.ImportOptions{Modifier: mod()})
			if err != nil {
				t.Fatal(err)
			}
			fromTar, err := compose.ImportTar(ctx, tx, bytes.NewReader(data), compose.ImportOptions{Modifier: mod()})
			if err != nil {
				t.Fatal(err)
			}
			a, err := fromDir.Write(ctx, tx)
			if err != nil {
				t.Fatal(err)
			}
			b, err := fromTar.Write(ctx, tx)
			if err != nil {
				t.Fatal(err)
			}
			if a != b || fromDir.Meta != fromTar.Meta {
				t.Errorf("tar root %s/%s, dir root %s/%s", b, fromTar.Meta, a, fromDir.Meta)
			}
		})
	}
}

// --tree=dir=D --tree=tar=T: the tar is imported into the directory's tree
// (ostree shares one mutable tree), so the dir's root dirmeta survives a
// tar without a root entry, and a missing parent rewrites it.
func TestImportTarIntoExistingTreeMatchesOstree(t *testing.T) {
	repotest.NeedOstree(t)
	ctx := context.Background()
	src := t.TempDir() + "/src"
	os.MkdirAll(src+"/x", 0o700)
	os.Chmod(src, 0o711)
	repotest.WriteFile(t, src+"/x/keep", "keep\n", 0o644)
	repotest.WriteFile(t, src+"/top", "dir\n", 0o644)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"top files only", mkTar(t, tar.FormatPAX, ent{name: "top", mode: 0o600, body: "tar"}, ent{name: "new", mode: 0o644, body: "n"})},
		{"missing parent", mkTar(t, tar.FormatPAX, ent{name: "x/sub/f", mode: 0o644, uid: 4, gid: 4, body: "f"})},
		{"root entry", mkTar(t, tar.FormatPAX, ent{name: "./", typ: tar.TypeDir, mode: 0o750}, ent{name: "./x/", typ: tar.TypeDir, mode: 0o755, uid: 2})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := dir + "/t.tar"
			os.WriteFile(f, tc.data, 0o644)
			orepo := dir + "/o"
			repotest.Ostree(t, "init", "--repo="+orepo, "--mode=archive")
			want := repotest.Ostree(t, "--repo="+orepo, "commit", "--tree=dir="+src, "--tree=tar="+f, "--tar-autocreate-parents",
				"--no-xattrs", "--timestamp=@1577836800", "-s", "s", "--orphan", "--no-bindings")
			r := repotest.NewRepo(t, repo.ModeArchive)
			tx, err := r.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Abort()
			mod := compose.NoModifier()
			mod.SkipXattrs = true
			root, err := compose.ImportDir(ctx, tx, src, compose.ImportOptions{Modifier: mod})
			if err != nil {
				t.Fatal(err)
			}
			got, err := compose.ImportTar(ctx, tx, bytes.NewReader(tc.data), compose.ImportOptions{Modifier: mod, Root: root})
			if err != nil {
				t.Fatal(err)
			}
			sum, _, err := compose.WriteCommit(ctx, tx, got, compose.CommitOptions{Subject: "s", Timestamp: time.Unix(1577836800, 0)})
			if err != nil {
				t.Fatal(err)
			}
			if sum.String() != want {
				t.Errorf("commit = %s, ostree = %s", sum, want)
			}
		})
	}
}

func TestImportTarWithoutAutocreateRefusesMissingParents(t *testing.T) {
	ctx := context.Background()
	r := repotest.NewRepo(t, repo.ModeArchive)
	for _, data := range [][]byte{
		mkTar(t, tar.FormatPAX, ent{name: "./", typ: tar.TypeDir, mode: 0o755}, ent{name: "x/y", mode: 0o644}),
		mkTar(t, tar.FormatPAX, ent{name: "a", mode: 0o644}),
	} {
		tx, _ := r.Begin(ctx)
		_, err := compose.ImportTar(ctx, tx, bytes.NewReader(data), compose.ImportOptions{StrictParents: true})
		tx.Abort()
		if !errors.Is(err, compose.ErrBadPath) {
			t.Errorf("error = %v, want ErrBadPath", err)
		}
	}
}
