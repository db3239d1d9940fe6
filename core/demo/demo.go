package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/groveos/grove/core/compose"
	"github.com/groveos/grove/core/gvariant"
	"github.com/groveos/grove/core/object"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
)

// ErrExists is returned when the target directory already holds a repo.
var ErrExists = errors.New("demo: repository already exists")

// Branch names of the demo repository.
const (
	BranchBase     = "exampleos/x86_64/base"
	BranchDevel    = "exampleos/x86_64/devel"
	BranchStandard = "exampleos/x86_64/standard"
	BranchARM      = "exampleos/aarch64/base"
	BranchComposed = "exampleos/x86_64/composed"
	BranchToolsCmp = "components/x86_64/tools"
	BranchDocsCmp  = "components/x86_64/docs"
	AliasStable    = "exampleos/stable"
	Remote         = "origin"
)

// epoch is the first commit's time; every commit is 6 hours after the previous.
var epoch = time.Date(2023, 1, 2, 8, 0, 0, 0, time.UTC)

// Build creates an archive-mode repository at dir/repo and fills it; it
// returns the repository path. progress (may be nil) receives short status
// lines. The result is identical on every run.
func Build(ctx context.Context, dir string, progress func(string)) (string, error) {
	if progress == nil {
		progress = func(string) {}
	}
	path := filepath.Join(dir, "repo")
	r, err := repo.Create(ctx, path, repo.CreateOptions{Mode: repo.ModeArchive})
	if err != nil {
		return "", fmt.Errorf("demo: creating %s: %w", path, err)
	}
	// A throwaway demo needs no durability: skip fsync while filling it,
	// then restore ostree's default.
	kf := r.Config()
	kf.Set("core", "fsync", "false")
	if err := r.SaveConfig(ctx, kf); err != nil {
		return "", fmt.Errorf("demo: configuring %s: %w", path, err)
	}
	b := &builder{r: r, rng: rand.New(rand.NewPCG(42, 2023)), progress: progress}
	if err := b.build(ctx); err != nil {
		return "", fmt.Errorf("demo: building %s: %w", path, err)
	}
	return path, nil
}

type builder struct {
	r        *repo.Repo
	rng      *rand.Rand
	progress func(string)
	dirMeta  oid.Checksum
	n        int // commits written so far, drives timestamps
	tx       *repo.Txn
}

// branchPlan is one branch's history.
type branchPlan struct {
	name    string
	arch    string
	flavour string
	commits int
	major   int // first version's major number
}

func (b *builder) build(ctx context.Context) error {
	plans := []branchPlan{
		{BranchBase, "x86_64", "base", 110, 1},
		{BranchDevel, "x86_64", "devel", 45, 2},
		{BranchStandard, "x86_64", "standard", 40, 2},
		{BranchARM, "aarch64", "base", 30, 3},
	}
	heads := map[string]oid.Checksum{}
	for _, p := range plans {
		b.progress(fmt.Sprintf("writing %s (%d commits)", p.name, p.commits))
		h, err := b.history(ctx, p)
		if err != nil {
			return err
		}
		heads[p.name] = h
	}
	b.progress("writing union-composed " + BranchComposed)
	if err := b.composed(ctx, heads[BranchBase]); err != nil {
		return err
	}
	// A remote ref (an older base, as if origin lagged behind), an alias and
	// the remote's configuration.
	base, err := b.r.LoadCommit(ctx, heads[BranchBase])
	if err != nil {
		return err
	}
	if err := b.r.SetRef(ctx, Remote, BranchBase, base.Parent); err != nil {
		return err
	}
	if err := b.r.CreateAlias(ctx, AliasStable, BranchStandard); err != nil {
		return err
	}
	kf := b.r.Config()
	kf.Delete("core", "fsync")
	kf.Set(`remote "origin"`, "url", "https://updates.example.org/exampleos/repo")
	kf.Set(`remote "origin"`, "gpg-verify", "false")
	return b.r.SaveConfig(ctx, kf)
}

// begin opens the transaction that the next writes go to.
func (b *builder) begin(ctx context.Context) error {
	tx, err := b.r.Begin(ctx)
	if err != nil {
		return err
	}
	b.tx = tx
	dm := &object.DirMeta{UID: 0, GID: 0, Mode: 0o40755}
	b.dirMeta, err = tx.WriteMeta(ctx, oid.DirMeta, dm.Marshal())
	if err != nil {
		tx.Abort()
	}
	return err
}

func (b *builder) put(ctx context.Context, t *compose.Tree, path string, mode uint32, data []byte) error {
	hdr := &object.FileHeader{Mode: 0o100000 | mode}
	sum, err := b.tx.WriteContent(ctx, hdr, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return b.set(ctx, t, path, sum)
}

func (b *builder) symlink(ctx context.Context, t *compose.Tree, path, target string) error {
	hdr := &object.FileHeader{Mode: 0o120777, SymlinkTarget: target}
	sum, err := b.tx.WriteContent(ctx, hdr, nil, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return b.set(ctx, t, path, sum)
}

func (b *builder) set(ctx context.Context, t *compose.Tree, path string, sum oid.Checksum) error {
	parts := compose.SplitPath(path)
	dir := t
	for _, p := range parts[:len(parts)-1] {
		var err error
		if dir, err = dir.EnsureDir(ctx, b.r, p, b.dirMeta, false); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return dir.SetFile(ctx, b.r, parts[len(parts)-1], sum)
}

func (b *builder) random(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(b.rng.Uint32())
	}
	return p
}

// binary makes an ELF-looking blob.
func (b *builder) binary(n int) []byte {
	p := b.random(n)
	copy(p, "\x7fELF\x02\x01\x01\x00")
	return p
}

var binaries = []string{"sh", "bash", "ls", "cat", "cp", "mv", "rm", "grep", "sed", "awk", "find", "tar",
	"gzip", "ps", "top", "mount", "systemctl", "journalctl", "ip", "ssh", "vim", "less", "sort", "uniq"}
var develBinaries = []string{"gcc", "ld", "as", "make", "gdb", "strace", "git", "pkg-config"}
var standardBinaries = []string{"curl", "wget", "rsync", "htop", "tmux", "jq"}

const loremDoc = `%s
%s

This package is part of ExampleOS, a demonstration operating system image
built by grove. The files in this tree are synthetic: binaries are random
bytes behind an ELF magic number, configuration files change with every
release so that the history and diff screens have something to show.

Version: %s
Architecture: %s
`

// initial fills the first tree of a branch.
func (b *builder) initial(ctx context.Context, p branchPlan) (*compose.Tree, error) {
	t := compose.NewTree(b.dirMeta)
	for _, l := range [][2]string{{"bin", "usr/bin"}, {"sbin", "usr/bin"}, {"lib", "usr/lib"}, {"lib64", "usr/lib"}} {
		if err := b.symlink(ctx, t, l[0], l[1]); err != nil {
			return nil, err
		}
	}
	bins := append([]string{}, binaries...)
	switch p.flavour {
	case "devel":
		bins = append(bins, develBinaries...)
	case "standard":
		bins = append(bins, standardBinaries...)
	}
	for _, name := range bins {
		if err := b.put(ctx, t, "usr/bin/"+name, 0o755, b.binary(2048+b.rng.IntN(30000))); err != nil {
			return nil, err
		}
		doc := fmt.Sprintf(loremDoc, name, strings.Repeat("=", len(name)), "1.0", p.arch)
		if err := b.put(ctx, t, "usr/share/doc/"+name+"/README", 0o644, []byte(doc)); err != nil {
			return nil, err
		}
	}
	for _, l := range [][2]string{{"usr/bin/vi", "vim"}, {"usr/bin/view", "vim"}, {"usr/bin/gunzip", "gzip"},
		{"etc/localtime", "../usr/share/zoneinfo/UTC"}, {"usr/lib/libc.so", "libc.so.6"}} {
		if err := b.symlink(ctx, t, l[0], l[1]); err != nil {
			return nil, err
		}
	}
	for _, lib := range []string{"libc.so.6", "libm.so.6", "libz.so.1", "libssl.so.3", "libsystemd.so.0"} {
		if err := b.put(ctx, t, "usr/lib/"+lib, 0o755, b.binary(8192+b.rng.IntN(60000))); err != nil {
			return nil, err
		}
	}
	if err := b.put(ctx, t, "usr/share/zoneinfo/UTC", 0o644, []byte("TZif2\x00\x00\x00UTC0\n")); err != nil {
		return nil, err
	}
	// Large files: incompressible firmware and a long text changelog, for
	// the file viewer's lazy paging.
	if err := b.put(ctx, t, "usr/lib/firmware/example-gpu.bin", 0o644, b.random(3<<20/2)); err != nil {
		return nil, err
	}
	var log strings.Builder
	for i := 0; log.Len() < 1<<20; i++ {
		fmt.Fprintf(&log, "%04d  * exampleos: release note line %d for %s — fixes, updates and rebuilt packages\n", i, i, p.arch)
	}
	if err := b.put(ctx, t, "usr/share/doc/exampleos/CHANGELOG", 0o644, []byte(log.String())); err != nil {
		return nil, err
	}
	static := map[string]string{
		"etc/hostname":            "exampleos\n",
		"etc/passwd":              "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"etc/group":               "root:x:0:\ndaemon:x:1:\nwheel:x:10:\nnogroup:x:65534:\n",
		"etc/fstab":               "# <file system> <mount point> <type> <options> <dump> <pass>\nLABEL=root / ext4 ro 0 1\ntmpfs /tmp tmpfs defaults 0 0\n",
		"etc/shells":              "/bin/sh\n/bin/bash\n",
		"usr/lib/os-release.tmpl": "NAME=ExampleOS\nID=exampleos\n",
	}
	for _, k := range sortedKeys(static) {
		if err := b.put(ctx, t, k, 0o644, []byte(static[k])); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// evolve changes a commit's tree the way a release would: os-release,
// configuration files, a few rebuilt binaries, now and then a new file.
func (b *builder) evolve(ctx context.Context, t *compose.Tree, p branchPlan, i int, version string) error {
	osr := fmt.Sprintf("NAME=ExampleOS\nID=exampleos\nVERSION=%q\nVERSION_ID=%s\nVARIANT_ID=%s\nPRETTY_NAME=\"ExampleOS %s (%s)\"\nHOME_URL=https://example.org/\n",
		version, version, p.flavour, version, p.flavour)
	if err := b.put(ctx, t, "etc/os-release", 0o644, []byte(osr)); err != nil {
		return err
	}
	sshd := fmt.Sprintf("# sshd_config for ExampleOS %s\nPort 22\nPermitRootLogin %s\nPasswordAuthentication %s\nMaxAuthTries %d\nX11Forwarding no\nSubsystem sftp /usr/lib/openssh/sftp-server\n",
		version, yesNo(i%5 == 0, "prohibit-password", "no"), yesNo(i%3 == 0, "yes", "no"), 3+i%4)
	if err := b.put(ctx, t, "etc/ssh/sshd_config", 0o600, []byte(sshd)); err != nil {
		return err
	}
	if i%4 == 1 {
		motd := fmt.Sprintf("Welcome to ExampleOS %s!\n\nRelease %d of the %s variant.\n", version, i, p.flavour)
		if err := b.put(ctx, t, "etc/motd", 0o644, []byte(motd)); err != nil {
			return err
		}
	}
	if i%6 == 2 {
		conf := fmt.Sprintf("[Journal]\nStorage=%s\nSystemMaxUse=%dM\nCompress=yes\n", yesNo(i%12 == 2, "volatile", "persistent"), 64+i)
		if err := b.put(ctx, t, "etc/systemd/journald.conf", 0o644, []byte(conf)); err != nil {
			return err
		}
	}
	for k := 0; k < 1+b.rng.IntN(3); k++ {
		name := binaries[b.rng.IntN(len(binaries))]
		if err := b.put(ctx, t, "usr/bin/"+name, 0o755, b.binary(2048+b.rng.IntN(30000))); err != nil {
			return err
		}
	}
	if i%10 == 9 {
		name := fmt.Sprintf("usr/lib/exampleos/plugins/plugin-%03d.so", i)
		if err := b.put(ctx, t, name, 0o755, b.binary(4096)); err != nil {
			return err
		}
	}
	return nil
}

func yesNo(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func (b *builder) timestamp() time.Time {
	t := epoch.Add(time.Duration(b.n) * 6 * time.Hour)
	b.n++
	return t
}

// history writes p.commits commits onto p.name and returns the head.
func (b *builder) history(ctx context.Context, p branchPlan) (oid.Checksum, error) {
	if err := b.begin(ctx); err != nil {
		return oid.Checksum{}, err
	}
	defer func() {
		if b.tx != nil {
			b.tx.Abort()
		}
	}()
	t, err := b.initial(ctx, p)
	if err != nil {
		return oid.Checksum{}, err
	}
	var parent oid.Checksum
	minor, patch := 0, 0
	for i := 0; i < p.commits; i++ {
		if ctx.Err() != nil {
			return oid.Checksum{}, ctx.Err()
		}
		// Versions climb like a real distribution: patch releases, a minor
		// bump every 18, a major bump every 60.
		major := p.major + i/60
		if i%60 == 0 {
			minor, patch = 0, 0
		} else if i%18 == 0 {
			minor, patch = minor+1, 0
		} else {
			patch++
		}
		version := fmt.Sprintf("%d.%d.%d", major, minor, patch)
		if err := b.evolve(ctx, t, p, i, version); err != nil {
			return oid.Checksum{}, err
		}
		when := b.timestamp()
		meta := []gvariant.DictEntry{
			{Key: object.MetaVersion, Value: gvariant.NewVariant("s", version)},
			{Key: "exampleos.arch", Value: gvariant.NewVariant("s", p.arch)},
			{Key: "exampleos.packages", Value: gvariant.NewVariant("as", packagesFor(p, i))},
			{Key: "exampleos.build-number", Value: gvariant.NewVariant("t", uint64(1000+b.n))},
			{Key: "exampleos.release", Value: gvariant.NewVariant("b", patch == 0)},
			{Key: object.MetaRefBinding, Value: gvariant.NewVariant("as", []string{p.name})},
		}
		var detached []gvariant.DictEntry
		if i%7 == 0 || i == p.commits-1 {
			detached = []gvariant.DictEntry{
				{Key: "exampleos.signed-by", Value: gvariant.NewVariant("s", "release-key-2023 <security@example.org>")},
				{Key: "exampleos.signature", Value: gvariant.NewVariant("ay", b.random(64))},
				{Key: "exampleos.tested", Value: gvariant.NewVariant("b", i%14 == 0)},
			}
		}
		body := ""
		if i%3 == 0 {
			body = fmt.Sprintf("Build %d of the %s variant for %s.\n\n- updated os-release\n- rebuilt core utilities\n- sshd_config: MaxAuthTries %d", i, p.flavour, p.arch, 3+i%4)
		}
		sum, _, err := compose.WriteCommit(ctx, b.tx, t, compose.CommitOptions{
			Subject:   fmt.Sprintf("ExampleOS %s %s %s", p.flavour, p.arch, version),
			Body:      body,
			Parent:    parent,
			Timestamp: when,
			Metadata:  meta,
			Detached:  detached,
		})
		if err != nil {
			return oid.Checksum{}, err
		}
		parent = sum
		if i%20 == 19 {
			b.progress(fmt.Sprintf("%s: %d/%d commits", p.name, i+1, p.commits))
		}
	}
	if err := b.tx.SetRef("", p.name, parent); err != nil {
		return oid.Checksum{}, err
	}
	err = b.commitTx(ctx)
	return parent, err
}

func (b *builder) commitTx(ctx context.Context) error {
	tx := b.tx
	b.tx = nil
	return tx.Commit(ctx)
}

func packagesFor(p branchPlan, i int) []string {
	pk := []string{"coreutils", "systemd", "openssh", "bash"}
	switch p.flavour {
	case "devel":
		pk = append(pk, "gcc", "gdb", "git")
	case "standard":
		pk = append(pk, "curl", "tmux", "rsync")
	}
	if i%2 == 1 {
		pk = append(pk, "vim")
	}
	return pk
}

// composed writes two component branches and a branch whose commits are the
// union of base and both components (compose.Tree.Merge of TreeFrom roots).
func (b *builder) composed(ctx context.Context, base oid.Checksum) error {
	comps := []struct {
		name  string
		files map[string]string
	}{
		{BranchToolsCmp, map[string]string{"usr/bin/grove-agent": "", "usr/bin/exampleos-update": "", "etc/exampleos/update.conf": "[update]\nchannel=stable\ninterval=daily\n"}},
		{BranchDocsCmp, map[string]string{"usr/share/doc/exampleos/GUIDE.md": "# ExampleOS guide\n\nComposed from components with grove union commits.\n", "usr/share/man/man1/grove.1": ".TH GROVE 1\n.SH NAME\ngrove \\- git for OS binaries\n"}},
	}
	var roots []*compose.Tree
	for _, c := range comps {
		if err := b.begin(ctx); err != nil {
			return err
		}
		t := compose.NewTree(b.dirMeta)
		for _, path := range sortedKeys(c.files) {
			data, mode := []byte(c.files[path]), uint32(0o644)
			if len(data) == 0 {
				data, mode = b.binary(16384), 0o755
			}
			if err := b.put(ctx, t, path, mode, data); err != nil {
				b.tx.Abort()
				return err
			}
		}
		sum, _, err := compose.WriteCommit(ctx, b.tx, t, compose.CommitOptions{
			Subject:   "component " + filepath.Base(c.name),
			Timestamp: b.timestamp(),
			Metadata: []gvariant.DictEntry{
				{Key: object.MetaVersion, Value: gvariant.NewVariant("s", "1.0.0")},
				{Key: object.MetaRefBinding, Value: gvariant.NewVariant("as", []string{c.name})},
			},
			Branch: c.name,
		})
		if err != nil {
			b.tx.Abort()
			return err
		}
		if err := b.commitTx(ctx); err != nil {
			return err
		}
		ct, err := compose.TreeFromCommit(ctx, b.r, sum)
		if err != nil {
			return err
		}
		roots = append(roots, ct)
	}
	// Three union commits: base's head and its two predecessors, each with
	// the components merged on top.
	bases := []oid.Checksum{}
	for c, k := base, 0; k < 3; k++ {
		bases = append([]oid.Checksum{c}, bases...)
		cm, err := b.r.LoadCommit(ctx, c)
		if err != nil {
			return err
		}
		c = cm.Parent
	}
	if err := b.begin(ctx); err != nil {
		return err
	}
	var parent oid.Checksum
	for k, bc := range bases {
		cm, err := b.r.LoadCommit(ctx, bc)
		if err != nil {
			b.tx.Abort()
			return err
		}
		t := compose.TreeFrom(cm.RootTree, cm.RootMeta)
		for _, ct := range roots {
			if err := t.Merge(ctx, b.r, ct); err != nil {
				b.tx.Abort()
				return err
			}
		}
		version := cm.Version() + "+composed"
		parent, _, err = compose.WriteCommit(ctx, b.tx, t, compose.CommitOptions{
			Subject:   fmt.Sprintf("Union of %s %s, tools and docs", BranchBase, cm.Version()),
			Body:      fmt.Sprintf("grove commit -b %s --tree=ref=%s --tree=ref=%s --tree=ref=%s", BranchComposed, bc.Short(), BranchToolsCmp, BranchDocsCmp),
			Parent:    parent,
			Timestamp: b.timestamp(),
			Metadata: []gvariant.DictEntry{
				{Key: object.MetaVersion, Value: gvariant.NewVariant("s", version)},
				{Key: "exampleos.components", Value: gvariant.NewVariant("as", []string{BranchBase, BranchToolsCmp, BranchDocsCmp})},
				{Key: "exampleos.union-index", Value: gvariant.NewVariant("t", uint64(k))},
				{Key: object.MetaRefBinding, Value: gvariant.NewVariant("as", []string{BranchComposed})},
			},
		})
		if err != nil {
			b.tx.Abort()
			return err
		}
	}
	if err := b.tx.SetRef("", BranchComposed, parent); err != nil {
		b.tx.Abort()
		return err
	}
	return b.commitTx(ctx)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
