package sign

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/groveos/grove/core/internal/fsutil"
	"github.com/groveos/grove/core/keyring"
)

// GPGKeyringOptions say where to find the keys that verify GPG signatures,
// mirroring ostree's _ostree_repo_gpg_prepare_verifier.
type GPGKeyringOptions struct {
	// Repo is the repository directory.
	Repo string
	// Remote, when set, uses that remote's keyring: Repo/<remote>.trustedkeys.gpg,
	// else RemotesDir/<remote>.trustedkeys.gpg. When found, the global
	// keyring directory is not used. Its KeyPaths are added too.
	Remote string
	// AllRemotes uses every *.gpg keyring in Repo (ostree does this to
	// verify an already pulled commit: `show`, `gpg-sign --delete`).
	AllRemotes bool
	// KeyPaths is the remote's `gpgkeypath` list (files or directories).
	KeyPaths []string
	// RemotesDir is where system remotes keep keyrings
	// (/etc/ostree/remotes.d); empty skips it.
	RemotesDir string
	// GlobalDir is the global keyring directory; empty means
	// $OSTREE_GPG_HOME, else /usr/share/ostree/trusted.gpg.d/. It is read
	// only if it exists.
	GlobalDir string
	// NoGlobal skips the global directory (ostree lists a named remote's
	// keys without it).
	NoGlobal bool
	// HomeDir is a --gpg-homedir: its *.gpg keyrings and pubring.kbx.
	HomeDir string
	// ExtraKeyring is one more keyring file.
	ExtraKeyring string
}

// DefaultGlobalKeyringDir is ostree's global keyring directory.
const DefaultGlobalKeyringDir = "/usr/share/ostree/trusted.gpg.d/"

// RemoteKeyringName is the file name of a remote's keyring.
func RemoteKeyringName(remote string) string { return remote + ".trustedkeys.gpg" }

// LoadGPGKeyring gathers the verification keys o names.
func LoadGPGKeyring(o GPGKeyringOptions) (*keyring.Keyring, error) {
	k := keyring.New()
	global := true
	switch {
	case o.AllRemotes:
		if err := k.AddDir(o.Repo); err != nil {
			return nil, err
		}
	case o.Remote != "":
		for _, dir := range []string{o.Repo, o.RemotesDir} {
			if dir == "" {
				continue
			}
			p := filepath.Join(dir, RemoteKeyringName(o.Remote))
			data, err := os.ReadFile(p)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("sign: keyring: %w", err)
			}
			if err := k.Add(data); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			global = false
			break
		}
		for _, p := range o.KeyPaths {
			if err := k.AddKeyPath(p); err != nil {
				return nil, err
			}
		}
	}
	if global && !o.NoGlobal {
		dir := o.GlobalDir
		if dir == "" {
			dir = os.Getenv("OSTREE_GPG_HOME")
		}
		if dir == "" {
			dir = DefaultGlobalKeyringDir
		}
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			if err := k.AddDir(dir); err != nil {
				return nil, fmt.Errorf("Reading keyring directory '%s': %w", dir, err)
			}
		}
	}
	if o.HomeDir != "" {
		if err := k.AddDir(o.HomeDir); err != nil {
			return nil, err
		}
	}
	if o.ExtraKeyring != "" {
		if err := k.AddFile(o.ExtraKeyring); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// ParseKeyPaths splits a `gpgkeypath` value on ';' and ',' as ostree does.
func ParseKeyPaths(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// keyIDHex formats a 64-bit key ID as 16 upper-case hex digits.
func keyIDHex(id uint64) string {
	s := strings.ToUpper(strconv.FormatUint(id, 16))
	return strings.Repeat("0", 16-len(s)) + s
}

// ImportKeys adds keys to a remote's keyring, <repo>/<remote>.trustedkeys.gpg
// (a binary keyring, as `ostree remote gpg-import` writes it), merging
// them with the keys already there, and replaces the file atomically.
// With ids only the keys they name are imported, and each must name one.
// It returns how many keys were new.
func ImportKeys(repoPath, remote string, src *keyring.Keyring, ids []string) (int, error) {
	pick := src
	if len(ids) > 0 {
		pick = keyring.New()
		for _, id := range ids {
			found := src.Lookup(id)
			if len(found) == 0 {
				return 0, oerr(ErrNoKeys, "GPG: Unable to find key \"%s\": GPGME: End of file", id)
			}
			for _, e := range found {
				pick.AddEntity(e)
			}
		}
	}
	path := filepath.Join(repoPath, RemoteKeyringName(remote))
	dst := keyring.New()
	if data, err := os.ReadFile(path); err == nil {
		if err := dst.Add(data); err != nil {
			return 0, fmt.Errorf("GPG: Unable to copy remote's keyring: %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("GPG: Unable to copy remote's keyring: %w", err)
	}
	before := dst.Len()
	for _, e := range pick.Entities() {
		dst.AddEntity(e)
	}
	var buf bytes.Buffer
	if err := dst.Serialize(&buf); err != nil {
		return 0, err
	}
	if err := fsutil.WriteFileAtomic(path, buf.Bytes(), 0o644, true); err != nil {
		return 0, fmt.Errorf("GPG: %w", err)
	}
	return dst.Len() - before, nil
}
