package sysroot

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/groveos/grove/core/keyfile"
	"github.com/groveos/grove/core/oid"
	"github.com/groveos/grove/core/sysroot/bls"
)

// Unlocked is a deployment's unlock state.
type Unlocked int

// Unlock states, as `ostree admin unlock` sets them.
const (
	UnlockedNone Unlocked = iota
	UnlockedHotfix
	UnlockedDevelopment
	UnlockedTransient
)

func (u Unlocked) String() string {
	return [...]string{"none", "hotfix", "development", "transient"}[u]
}

// TransientGroup is the origin group libostree never carries over to a
// new deployment.
const TransientGroup = "libostree-transient"

// Deployment is one deployed tree.
type Deployment struct {
	Index     int
	Stateroot string
	// Checksum is the commit, as named by the deployment directory.
	Checksum string
	Serial   int
	// BootChecksum names boot/ostree/STATEROOT-BOOTCSUM; BootSerial
	// tells deployments sharing it apart.
	BootChecksum string
	BootSerial   int
	// Boot is the BLS entry (nil for a deployment being created).
	Boot *bls.Entry
	// Origin is the .origin key file, nil when there is none.
	Origin   *keyfile.File
	Unlocked Unlocked
	Staged   bool
	// OverlayInitrds are the checksums of overlay initrds.
	OverlayInitrds []string
}

// Commit parses Checksum.
func (d *Deployment) Commit() (oid.Checksum, error) { return oid.Parse(d.Checksum) }

// Name is "CSUM.SERIAL".
func (d *Deployment) Name() string { return fmt.Sprintf("%s.%d", d.Checksum, d.Serial) }

// Dir is the deployment root relative to the sysroot.
func (d *Deployment) Dir() string {
	return "ostree/deploy/" + d.Stateroot + "/deploy/" + d.Name()
}

// OriginPath is the origin file relative to the sysroot.
func (d *Deployment) OriginPath() string { return d.Dir() + ".origin" }

// Pinned reports [libostree-transient] pinned=true.
func (d *Deployment) Pinned() bool {
	if d.Origin == nil {
		return false
	}
	b, err := d.Origin.Bool(TransientGroup, "pinned", false)
	return err == nil && b
}

// Refspec is origin/refspec ("" when unset).
func (d *Deployment) Refspec() string {
	if d.Origin == nil {
		return ""
	}
	return d.Origin.String("origin", "refspec", "")
}

// Kargs is the kernel command line of the BLS entry.
func (d *Deployment) Kargs() string {
	if d.Boot == nil {
		return ""
	}
	return d.Boot.Value("options")
}

// Equal compares stateroot, checksum and serial, like
// ostree_deployment_equal.
func (d *Deployment) Equal(o *Deployment) bool {
	if d == nil || o == nil {
		return d == o
	}
	return d.Stateroot == o.Stateroot && d.Checksum == o.Checksum && d.Serial == o.Serial
}

// Clone returns a deep copy (the origin too).
func (d *Deployment) Clone() *Deployment {
	c := *d
	if d.Boot != nil {
		c.Boot = d.Boot.Clone()
	}
	if d.Origin != nil {
		c.Origin = d.Origin.Clone()
	}
	c.OverlayInitrds = append([]string(nil), d.OverlayInitrds...)
	return &c
}

// overlayID identifies a set of overlay initrds for comparisons.
func (d *Deployment) overlayID() string { return strings.Join(d.OverlayInitrds, "") }

// NewOrigin returns the origin libostree writes for a refspec.
func NewOrigin(refspec string) *keyfile.File {
	kf := &keyfile.File{}
	kf.Set("origin", "refspec", refspec)
	return kf
}

// ParseOrigin reads an origin key file as libostree loads it, with GLib's
// rules and messages: comments and blank lines are dropped (GLib keeps
// them only when asked, so the file libostree rewrites has none either),
// a key needs a group before it, and any other line is an error.
func ParseOrigin(data []byte) (*keyfile.File, error) {
	var b bytes.Buffer
	group := false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r") // GLib drops the CR of CRLF
		t := strings.TrimLeft(line, " \t\r\n\f\v")
		switch {
		case t == "" || t[0] == '#':
			continue
		case t[0] == '[':
			name, ok := glibGroup(t)
			if !ok {
				return nil, fmt.Errorf("Key file contains line \u201c%s\u201d which is not a key-value pair, group, or comment", line)
			}
			if name == "" || strings.ContainsAny(name, "[]") || strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
				return nil, fmt.Errorf("Invalid group name: %s", name)
			}
			group = true
			b.WriteString("[" + name + "]\n")
		case strings.IndexByte(t, '=') > 0:
			if !group {
				return nil, fmt.Errorf("Key file does not start with a group")
			}
			k, v, _ := strings.Cut(t, "=")
			k = strings.TrimRight(k, " \t")
			if k == "" || strings.ContainsAny(k, "=[]\n") {
				return nil, fmt.Errorf("Invalid key name: %s", k)
			}
			b.WriteString(k + "=" + strings.TrimLeft(v, " \t") + "\n")
		default:
			return nil, fmt.Errorf("Key file contains line \u201c%s\u201d which is not a key-value pair, group, or comment", line)
		}
	}
	return keyfile.Parse(b.Bytes())
}

// glibGroup accepts "[name]" followed only by blanks, as
// g_key_file_line_is_group does.
func glibGroup(t string) (string, bool) {
	end := strings.IndexByte(t, ']')
	if end < 0 || strings.Trim(t[end+1:], " \t") != "" {
		return "", false
	}
	return t[1:end], true
}

// RemoveTransientState strips what must not follow a deployment into its
// successor: the [libostree-transient] group, origin/override-commit and
// origin/unlocked.
func RemoveTransientState(kf *keyfile.File) {
	kf.DeleteGroup(TransientGroup)
	kf.Delete("origin", "override-commit")
	kf.Delete("origin", "unlocked")
}
