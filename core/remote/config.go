package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/sign"
)

// Errors returned by this package; their messages are ostree's.
var (
	ErrNotFound = errors.New("remote: not found")
	ErrExists   = errors.New("remote: already exists")
)

// Error is an error worded as ostree words it, wrapping one of this
// package's sentinels (or nothing).
type Error struct {
	Code error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Code }

func oerr(code error, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Where says where a repository's remotes are kept besides its config.
type Where struct {
	// SysrootDir, when set, says the repository is that sysroot's
	// (SYSROOT/ostree/repo): its remotes may also live in
	// SYSROOT/etc/ostree/remotes.d/*.conf, and new ones go there unless
	// core.add-remotes-config-dir is false (ostree's default for system
	// repositories). Other repositories keep remotes in their config only.
	SysrootDir string
}

// RemotesDir is the remotes.d directory, "" when the repository has none.
func (w Where) RemotesDir() string {
	if w.SysrootDir == "" {
		return ""
	}
	return filepath.Join(w.SysrootDir, "etc", "ostree", "remotes.d")
}

// Remote is one configured remote: a `[remote "NAME"]` group.
type Remote struct {
	Name string
	// File is the remotes.d file it came from; "" for the repository's
	// config.
	File    string
	options *keyfile.File // the group alone, values unescaped by Option
}

// Group is the key-file group name of a remote.
func Group(name string) string { return `remote "` + name + `"` }

// Option looks up one option; ok is false when it is not set.
func (r *Remote) Option(key string) (string, bool) {
	return r.options.Get(Group(r.Name), key)
}

// Bool reads a boolean option (GLib's true/false/1/0) with a default.
func (r *Remote) Bool(key string, def bool) (bool, error) {
	v, err := r.options.Bool(Group(r.Name), key, def)
	if err != nil {
		return def, fmt.Errorf("remote %q: %w", r.Name, err)
	}
	return v, nil
}

// Keys lists the options set, in file order.
func (r *Remote) Keys() []string { return r.options.Keys(Group(r.Name)) }

// URL is the remote's url option (possibly "mirrorlist=…").
func (r *Remote) URL() (string, error) {
	if isFileName(r.Name) {
		return r.Name, nil
	}
	u, ok := r.Option("url")
	if !ok {
		return "", oerr(ErrNotFound, "No \"url\" option in remote \"%s\"", r.Name)
	}
	return u, nil
}

// Branches is the remote's branches list.
func (r *Remote) Branches() []string { return r.options.List(Group(r.Name), "branches") }

// GPGVerify is gpg-verify (default true; false for file:// names).
func (r *Remote) GPGVerify() (bool, error) {
	if isFileName(r.Name) {
		return false, nil
	}
	return r.Bool("gpg-verify", true)
}

// isFileName: ostree accepts a file:// URL wherever a remote name goes.
func isFileName(name string) bool { return strings.HasPrefix(name, "file://") }

// groupRemote parses a `remote "NAME"` group name.
func groupRemote(group string) (string, bool) {
	rest, ok := strings.CutPrefix(group, `remote "`)
	if !ok || !strings.HasSuffix(rest, `"`) {
		return "", false
	}
	return rest[:len(rest)-1], true
}

// List returns the repository's remotes sorted by name: those of its
// config, then those of remotes.d. A remote defined twice is an error, as
// in ostree.
func List(r *repo.Repo, w Where) ([]*Remote, error) {
	var out []*Remote
	seen := map[string]bool{}
	add := func(kf *keyfile.File, file string) error {
		for _, g := range kf.Groups() {
			name, ok := groupRemote(g)
			if !ok {
				continue
			}
			if seen[name] {
				return fmt.Errorf("Multiple specifications found for remote \"%s\"", name)
			}
			seen[name] = true
			out = append(out, &Remote{Name: name, File: file, options: extract(kf, g)})
		}
		return nil
	}
	if err := add(r.Config(), ""); err != nil {
		return nil, err
	}
	if dir := w.RemotesDir(); dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("remote: %w", err)
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".conf") {
				continue
			}
			p := filepath.Join(dir, e.Name())
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("remote: %w", err)
			}
			kf, err := keyfile.Parse(data)
			if err != nil {
				return nil, fmt.Errorf("Failed to parse %s: %w", p, err)
			}
			if err := add(kf, p); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(out, func(a, b *Remote) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// extract copies one group of kf into a key file of its own.
func extract(kf *keyfile.File, group string) *keyfile.File {
	out, _ := keyfile.Parse(nil)
	for _, k := range kf.Keys(group) {
		v, _ := kf.Get(group, k)
		out.Set(group, k, v)
	}
	return out
}

// Get returns the named remote ("Remote "NAME" not found" otherwise). A
// file:// URL stands for a remote of its own with no options.
func Get(r *repo.Repo, w Where, name string) (*Remote, error) {
	if isFileName(name) {
		kf, _ := keyfile.Parse(nil)
		return &Remote{Name: name, options: kf}, nil
	}
	all, err := List(r, w)
	if err != nil {
		return nil, err
	}
	for _, rem := range all {
		if rem.Name == name {
			return rem, nil
		}
	}
	return nil, oerr(ErrNotFound, "Remote \"%s\" not found", name)
}

// AddOptions are `remote add`'s.
type AddOptions struct {
	Name string
	URL  string // may be "mirrorlist=…" or "metalink=…"
	// Branches become the branches list.
	Branches []string
	// ContentURL sets contenturl.
	ContentURL string
	// Set are --set=KEY=VALUE options, in order (strings).
	Set [][2]string
	// NoGPGVerify writes gpg-verify=false.
	NoGPGVerify bool
	// NoSignVerify writes gpg-verify=false and sign-verify=false.
	NoSignVerify bool
	// SignVerify are --sign-verify=ENGINE=inline:KEY or ENGINE=file:PATH.
	SignVerify []string
	// IfNotExists makes an existing remote a success (nothing changes).
	IfNotExists bool
	// Force replaces an existing remote.
	Force bool
	// CollectionID sets collection-id.
	CollectionID string
}

// Add configures a new remote, writing the options in ostree's order so
// that the config is byte for byte what `ostree remote add` writes: url,
// branches, contenturl, the --set options, gpg-verify, collection-id.
func Add(ctx context.Context, r *repo.Repo, w Where, o AddOptions) error {
	if err := oid.ValidateRemote(o.Name); err != nil {
		return fmt.Errorf("Invalid remote name %s", o.Name)
	}
	if o.IfNotExists && o.Force {
		return errors.New("Can only specify one of --if-not-exists and --force")
	}
	existing, err := Get(r, w, o.Name)
	switch {
	case err == nil && o.IfNotExists:
		return nil
	case err == nil && !o.Force:
		where := "(in config)"
		if existing.File != "" {
			where = existing.File
		}
		return oerr(ErrExists, "Remote configuration for \"%s\" already exists: %s", o.Name, where)
	case err == nil: // --force: replace it where it is
		if err := Delete(ctx, r, w, o.Name, false); err != nil {
			return err
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	g := Group(o.Name)
	opts, _ := keyfile.Parse(nil)
	if u, ok := strings.CutPrefix(o.URL, "metalink="); ok {
		opts.Set(g, "metalink", u)
	} else {
		opts.Set(g, "url", o.URL)
	}
	if len(o.Branches) > 0 {
		opts.SetList(g, "branches", o.Branches)
	}
	if o.ContentURL != "" {
		opts.Set(g, "contenturl", o.ContentURL)
	}
	for _, kv := range o.Set {
		opts.Set(g, kv[0], kv[1])
	}
	// No signature verification implies no GPG verification either.
	if o.NoGPGVerify || o.NoSignVerify {
		opts.Set(g, "gpg-verify", "false")
	}
	if o.NoSignVerify {
		if len(o.SignVerify) > 0 {
			return errors.New("Cannot specify both --sign-verify and --no-sign-verify")
		}
		opts.Set(g, "sign-verify", "false")
	}
	var engines []string
	for _, spec := range o.SignVerify {
		engine, rest, ok := strings.Cut(spec, "=")
		if !ok || engine == "" {
			return fmt.Errorf("Failed to parse KEYTYPE=[inline|file]:DATA in %s", spec)
		}
		if _, err := sign.NewEngineVerifier(engine); err != nil {
			return err // "Requested signature type is not implemented"
		}
		how, key, _ := strings.Cut(rest, ":")
		switch how {
		case "inline":
			opts.Set(g, "verification-"+engine+"-key", key)
		case "file":
			opts.Set(g, "verification-"+engine+"-file", key)
		default:
			return fmt.Errorf("Invalid key reference %s, expected inline|file", how)
		}
		engines = append(engines, engine)
	}
	if len(engines) > 0 {
		opts.Set(g, "sign-verify", strings.Join(engines, ","))
	}
	if o.CollectionID != "" {
		opts.Set(g, "collection-id", o.CollectionID)
	}

	if dir := w.RemotesDir(); dir != "" {
		useDir, err := r.Config().Bool("core", "add-remotes-config-dir", true)
		if err != nil {
			return err
		}
		if useDir {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("remote: %w", err)
			}
			return fsutil.WriteFileAtomic(filepath.Join(dir, o.Name+".conf"), opts.Bytes(), 0o644, r.Fsync())
		}
	}
	kf := r.Config() // a copy to change
	for _, k := range opts.Keys(g) {
		v, _ := opts.Get(g, k)
		kf.Set(g, k, v)
	}
	return r.SaveConfig(ctx, kf)
}

// Delete removes a remote (from the config or its remotes.d file) and its
// GPG keyring <repo>/<name>.trustedkeys.gpg. A missing remote is an error
// unless ifExists.
func Delete(ctx context.Context, r *repo.Repo, w Where, name string, ifExists bool) error {
	if err := oid.ValidateRemote(name); err != nil {
		return fmt.Errorf("Invalid remote name %s", name)
	}
	rem, err := Get(r, w, name)
	if err != nil {
		if ifExists && errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	if rem.File != "" {
		if err := os.Remove(rem.File); err != nil {
			return fmt.Errorf("remote: %w", err)
		}
	} else {
		kf := r.Config()
		if kf.DeleteGroup(Group(name)) {
			if err := r.SaveConfig(ctx, kf); err != nil {
				return err
			}
		}
	}
	keyring := filepath.Join(r.Path(), name+".trustedkeys.gpg")
	if err := os.Remove(keyring); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remote: %w", err)
	}
	return nil
}
