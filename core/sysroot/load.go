package sysroot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/sysroot/bls"
	"github.com/groveos/grove/core/sysroot/kernel"
	"golang.org/x/sys/unix"
)

var (
	bootlinkRe = regexp.MustCompile(`^/ostree/boot.([01])/([^/]+)/([^/]+)/([0-9]+)$`)
	deployRe   = regexp.MustCompile(`^([0-9a-f]+)\.([0-9]+)$`)
)

// Load (re)reads bootversion, sub-bootversion and the deployment list
// from the boot loader entries, which are the source of truth.
func (s *Sysroot) Load(ctx context.Context) error {
	if err := s.load(ctx); err != nil {
		return fmt.Errorf("loading sysroot: %w", err)
	}
	return nil
}

func (s *Sysroot) load(ctx context.Context) error {
	if _, err := os.Stat(s.abs("ostree/deploy")); err != nil {
		return errf(ErrNotSysroot, "fstatat(ostree/deploy): %w", unwrapPathErr(err))
	}
	bv, err := s.readBootversion()
	if err != nil {
		return err
	}
	sub, err := s.readSubbootversion(bv)
	if err != nil {
		return err
	}
	entries, err := s.readEntries(ctx, bv)
	if err != nil {
		return err
	}
	s.bootedDep, s.stagedDep = nil, nil
	var deps []*Deployment
	for _, e := range entries {
		d, err := s.deploymentFromEntry(e)
		if err != nil {
			s.bootedDep = nil
			return err
		}
		deps = append(deps, d)
	}
	if s.booted && s.bootedDep == nil {
		if _, err := os.Lstat(s.abs("boot/loader")); err != nil {
			return errf(ErrCorrupt, "Unexpected state: %s found, but no /boot/loader directory", filepath.Join(s.env.Run, "ostree-booted"))
		}
		return errf(ErrCorrupt, "Unexpected state: %s found and in / sysroot, but bootloader entry not found", filepath.Join(s.env.Run, "ostree-booted"))
	}
	if err := s.loadStaged(); err != nil {
		return fmt.Errorf("Loading staged deployment: %w", err)
	}
	sort.SliceStable(deps, func(i, j int) bool { return bls.CompareVersions(deps[i].Boot, deps[j].Boot) < 0 })
	if s.stagedDep != nil {
		deps = append([]*Deployment{s.stagedDep}, deps...)
	}
	for i, d := range deps {
		d.Index = i
	}
	s.bootversion, s.subboot, s.deployments = bv, sub, deps
	return nil
}

func (s *Sysroot) readBootversion() (int, error) {
	st, err := os.Lstat(s.abs("boot/loader"))
	if errors.Is(err, os.ErrNotExist) {
		s.loaderExists = false
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	s.loaderExists = true
	if st.Mode()&os.ModeSymlink == 0 {
		return 0, errf(ErrCorrupt, "Not a symbolic link: boot/loader")
	}
	t, err := os.Readlink(s.abs("boot/loader"))
	if err != nil {
		return 0, err
	}
	switch t {
	case "loader.0":
		return 0, nil
	case "loader.1":
		return 1, nil
	}
	return 0, errf(ErrCorrupt, "Invalid target '%s' in boot/loader", t)
}

// readSubbootversion reads ostree/boot.N -> boot.N.M (missing: 0).
func (s *Sysroot) readSubbootversion(bv int) (int, error) {
	name := fmt.Sprintf("ostree/boot.%d", bv)
	t, err := os.Readlink(s.abs(name))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("readlinkat(%s): %w", name, unwrapPathErr(err))
	}
	switch {
	case strings.HasSuffix(t, ".0"):
		return 0, nil
	case strings.HasSuffix(t, ".1"):
		return 1, nil
	}
	return 0, errf(ErrCorrupt, "Invalid target '%s' in %s", t, name)
}

// readEntries parses boot/loader.N/entries/ostree-*.conf, sorted highest
// version first (directory order breaks ties, as in libostree).
func (s *Sysroot) readEntries(ctx context.Context, bv int) ([]*bls.Entry, error) {
	dir := s.abs(fmt.Sprintf("boot/loader.%d/entries", bv))
	names, err := readdirnames(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*bls.Entry
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("fstatat(%s): %w", n, unwrapPathErr(err))
		}
		if !strings.HasPrefix(n, "ostree-") || !strings.HasSuffix(n, ".conf") || !st.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("Parsing %s: %w", n, unwrapPathErr(err))
		}
		e, err := bls.Parse(data)
		if err != nil {
			return nil, errf(ErrCorrupt, "Parsing %s: Invalid UTF-8", n)
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return bls.CompareVersions(out[i], out[j]) < 0 })
	return out, nil
}

// readDirOrdered lists a directory in on-disk order, like readdir(3).
func readDirOrdered(dir string) ([]os.DirEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// readdirnames lists a directory in its on-disk order, like readdir(3).
func readdirnames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// parseBootlink splits /ostree/boot.B/STATEROOT/BOOTCSUM/SERIAL.
func parseBootlink(link string) (stateroot, bootcsum string, serial int, err error) {
	m := bootlinkRe.FindStringSubmatch(link)
	if m == nil {
		return "", "", 0, errf(ErrCorrupt, "Invalid ostree= argument '%s', expected ostree=/ostree/boot.BOOTVERSION/OSNAME/BOOTCSUM/TREESERIAL", link)
	}
	serial, _ = strconv.Atoi(m[4])
	return m[2], m[3], serial, nil
}

// parseDeployName splits CSUM.SERIAL.
func parseDeployName(name string) (string, int, error) {
	m := deployRe.FindStringSubmatch(name)
	if m == nil {
		return "", 0, errf(ErrCorrupt, "Invalid deploy name '%s', expected CHECKSUM.TREESERIAL", name)
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, errf(ErrCorrupt, "Invalid deploy name '%s', expected CHECKSUM.TREESERIAL", name)
	}
	return m[1], n, nil
}

// deploymentFromEntry resolves an entry's ostree= through the bootlinks to
// its deployment directory (§9.6 steps 3-4).
func (s *Sysroot) deploymentFromEntry(e *bls.Entry) (*Deployment, error) {
	link, ok := e.OstreeArg()
	if !ok {
		return nil, errf(ErrCorrupt, "No ostree= kernel argument found")
	}
	stateroot, bootcsum, bootserial, err := parseBootlink(link)
	if err != nil {
		return nil, err
	}
	wrap := func(err error) error {
		return fmt.Errorf("Parsing deployment %s in stateroot '%s': %w", link, stateroot, err)
	}
	rel := strings.TrimPrefix(link, "/")
	target, err := os.Readlink(s.abs(rel))
	if err != nil {
		return nil, wrap(errf(ErrCorrupt, "readlinkat: %w", unwrapPathErr(err)))
	}
	csum, serial, err := parseDeployName(path.Base(target))
	if err != nil {
		return nil, wrap(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(s.abs(rel), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err == nil {
			err = unix.ENOTDIR
		}
		return nil, wrap(errf(ErrCorrupt, "opendir(%s): %w", rel, errnoText{err}))
	}
	d := &Deployment{Index: -1, Stateroot: stateroot, Checksum: csum, Serial: serial, BootChecksum: bootcsum, BootSerial: bootserial, Boot: e}
	if err := s.loadOrigin(d); err != nil {
		return nil, wrap(err)
	}
	d.Unlocked = s.unlockedState(d)
	for _, p := range e.OverlayInitrds() {
		b := path.Base(p)
		if len(b) != 64+len(".img") {
			return nil, errf(ErrCorrupt, "Malformed overlay initrd filename: %s", b)
		}
		d.OverlayInitrds = append(d.OverlayInitrds, b[:64])
	}
	if s.booted && s.bootedDep == nil && st.Dev == s.rootSt.Dev && st.Ino == s.rootSt.Ino {
		s.bootedDep = d
	}
	return d, nil
}

// loadOrigin reads the deployment's .origin, if any.
func (s *Sysroot) loadOrigin(d *Deployment) error {
	data, err := os.ReadFile(s.abs(d.OriginPath()))
	if errors.Is(err, os.ErrNotExist) {
		d.Origin = nil
		return nil
	}
	if err != nil {
		return err
	}
	if !kernel.ValidText(data) {
		return errf(ErrCorrupt, "Parsing %s: Invalid UTF-8", d.OriginPath())
	}
	kf, err := ParseOrigin(data)
	if err != nil {
		return errf(ErrCorrupt, "Parsing %s: %w", d.OriginPath(), err)
	}
	d.Origin = kf
	return nil
}

func (s *Sysroot) runstatePath(d *Deployment, key string) string {
	return filepath.Join(s.env.Run, "ostree/deployment-state", d.Name(), key)
}

func (s *Sysroot) unlockedState(d *Deployment) Unlocked {
	if _, err := os.Lstat(s.runstatePath(d, "unlocked-development")); err == nil {
		return UnlockedDevelopment
	}
	if _, err := os.Lstat(s.runstatePath(d, "unlocked-transient")); err == nil {
		return UnlockedTransient
	}
	if d.Origin != nil && d.Origin.String("origin", "unlocked", "") == "hotfix" {
		return UnlockedHotfix
	}
	return UnlockedNone
}

// loadStaged reads /run/ostree/staged-deployment on a booted system.
func (s *Sysroot) loadStaged() error {
	if !s.booted {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(s.env.Run, "ostree/staged-deployment"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	v, err := gvariant.Unmarshal(gvariant.MustParseType("a{sv}"), data)
	if err != nil {
		return errf(ErrCorrupt, "staged deployment: %w", err)
	}
	dict, _ := v.([]gvariant.DictEntry)
	tv, ok := gvariant.Lookup(dict, "target")
	if !ok {
		return nil
	}
	target, _ := variantValue(tv).([]gvariant.DictEntry)
	str := func(k string) (string, error) {
		x, ok := gvariant.Lookup(target, k)
		if s, isStr := variantValue(x).(string); ok && isStr {
			return s, nil
		}
		return "", errf(ErrCorrupt, "staged deployment: missing key '%s' in deployment serialization", k)
	}
	name, err := str("name")
	if err != nil {
		return err
	}
	osname, err := str("osname")
	if err != nil {
		return err
	}
	bootcsum, err := str("bootcsum")
	if err != nil {
		return err
	}
	csum, serial, err := parseDeployName(name)
	if err != nil {
		return err
	}
	d := &Deployment{Index: -1, Stateroot: osname, Checksum: csum, Serial: serial, BootChecksum: bootcsum, BootSerial: -1, Staged: true}
	d.Boot = bls.NewEntry()
	if kv, ok := gvariant.Lookup(dict, "kargs"); ok {
		k := &bls.KernelArgs{}
		k.AppendArgv(stringList(variantValue(kv)))
		d.Boot.Set("options", k.String())
	}
	if kv, ok := gvariant.Lookup(dict, "overlay-initrds"); ok {
		d.OverlayInitrds = stringList(variantValue(kv))
	}
	if err := s.loadOrigin(d); err != nil {
		return err
	}
	s.stagedDep = d
	return nil
}

// stringList converts an unmarshalled "as".
func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func variantValue(v any) any {
	if vv, ok := v.(gvariant.Variant); ok {
		return vv.Value
	}
	return v
}
