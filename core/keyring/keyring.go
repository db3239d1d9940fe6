package keyring

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// ErrMalformed says keyring data could not be read.
var ErrMalformed = errors.New("keyring: malformed keyring")

// Keyring is a set of OpenPGP keys read from binary keyrings, armored
// exports and GnuPG keyboxes. The same key met twice (two keyrings, or an
// import over an existing keyring) is kept once, its user IDs, subkeys and
// revocations merged, as gpg's import merges them.
type Keyring struct {
	list openpgp.EntityList
}

// New returns an empty keyring.
func New() *Keyring { return &Keyring{} }

// Parse reads keys from data in any of the forms Keyring.Add takes.
func Parse(data []byte) (*Keyring, error) {
	k := New()
	if err := k.Add(data); err != nil {
		return nil, err
	}
	return k, nil
}

// Len is the number of keys (primary keys with their subkeys).
func (k *Keyring) Len() int { return len(k.list) }

// Entities are the keys, for go-crypto calls.
func (k *Keyring) Entities() openpgp.EntityList { return k.list }

// Add reads keys from a binary keyring or export (pubring.gpg,
// trustedkeys.gpg, `gpg --export`), one or more ASCII-armored key blocks,
// or a GnuPG 2.1 keybox (pubring.kbx). Empty data adds nothing.
func (k *Keyring) Add(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil
	case isKeybox(data):
		blocks, err := kbxKeyblocks(data)
		if err != nil {
			return err
		}
		for _, b := range blocks {
			if err := k.addBinary(b); err != nil {
				return err
			}
		}
		return nil
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP")):
		return k.addArmored(trimmed)
	}
	return k.addBinary(data)
}

func (k *Keyring) addArmored(data []byte) error {
	r := bytes.NewReader(data)
	n := 0
	for {
		block, err := armor.Decode(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			if n > 0 {
				break // trailing text after the last block
			}
			return fmt.Errorf("%w: armored keys: %v", ErrMalformed, err)
		}
		if block.Type != openpgp.PublicKeyType && block.Type != openpgp.PrivateKeyType {
			continue
		}
		body, err := io.ReadAll(block.Body)
		if err != nil {
			return fmt.Errorf("%w: armored keys: %v", ErrMalformed, err)
		}
		if err := k.addBinary(body); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%w: no armored key block found", ErrMalformed)
	}
	return nil
}

func (k *Keyring) addBinary(data []byte) error {
	el, err := openpgp.ReadKeyRing(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for _, e := range el {
		k.merge(e)
	}
	return nil
}

// AddEntity adds a key, merged with the copy already present if any.
func (k *Keyring) AddEntity(e *openpgp.Entity) { k.merge(e) }

// merge adds e, or folds it into the key with the same fingerprint.
func (k *Keyring) merge(e *openpgp.Entity) {
	for _, o := range k.list {
		if !bytes.Equal(o.PrimaryKey.Fingerprint, e.PrimaryKey.Fingerprint) {
			continue
		}
		if o.PrivateKey == nil && e.PrivateKey != nil {
			o.PrivateKey = e.PrivateKey
		}
		o.Revocations = appendNewSigs(o.Revocations, e.Revocations)
		for name, id := range e.Identities {
			old, ok := o.Identities[name]
			if !ok {
				o.Identities[name] = id
				continue
			}
			old.Revocations = appendNewSigs(old.Revocations, id.Revocations)
			old.Signatures = appendNewSigs(old.Signatures, id.Signatures)
			if id.SelfSignature != nil && (old.SelfSignature == nil || id.SelfSignature.CreationTime.After(old.SelfSignature.CreationTime)) {
				old.SelfSignature = id.SelfSignature
			}
		}
	sub:
		for _, s := range e.Subkeys {
			for i := range o.Subkeys {
				if bytes.Equal(o.Subkeys[i].PublicKey.Fingerprint, s.PublicKey.Fingerprint) {
					o.Subkeys[i].Revocations = appendNewSigs(o.Subkeys[i].Revocations, s.Revocations)
					if o.Subkeys[i].PrivateKey == nil {
						o.Subkeys[i].PrivateKey = s.PrivateKey
					}
					if s.Sig != nil && s.Sig.CreationTime.After(o.Subkeys[i].Sig.CreationTime) {
						o.Subkeys[i].Sig = s.Sig
					}
					continue sub
				}
			}
			o.Subkeys = append(o.Subkeys, s)
		}
		return
	}
	k.list = append(k.list, e)
}

func appendNewSigs(have, add []*packet.Signature) []*packet.Signature {
	for _, s := range add {
		dup := false
		for _, h := range have {
			if h == s || h.CreationTime.Equal(s.CreationTime) && h.SigType == s.SigType && bytes.Equal(h.IssuerFingerprint, s.IssuerFingerprint) {
				dup = true
				break
			}
		}
		if !dup {
			have = append(have, s)
		}
	}
	return have
}

// AddFile reads a keyring file (any form Add takes).
func (k *Keyring) AddFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if err := k.Add(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// AddDir reads the keyrings in a directory as ostree does: every regular
// file named *.gpg except trustdb.gpg and secring.gpg. Grove also reads
// pubring.kbx, which ostree 2022.7 cannot (a GnuPG 2.1+ home directory
// keeps its public keys there). A missing directory is an error.
func (k *Keyring) AddDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("keyring: directory: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		if name != "pubring.kbx" && (!strings.HasSuffix(name, ".gpg") || name == "trustdb.gpg" || name == "secring.gpg") {
			continue
		}
		if err := k.AddFile(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// AddKeyPath adds a `gpgkeypath` entry: a directory's regular files each
// read as a key file, or a single key file.
func (k *Keyring) AddKeyPath(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if !st.IsDir() {
		return k.AddFile(path)
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			if err := k.AddFile(filepath.Join(path, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// Serialize writes the public keys as a binary keyring, the form of
// `<remote>.trustedkeys.gpg`: each key's primary key, revocations, user
// IDs (primary first, then by name) with their signatures, and subkeys.
func (k *Keyring) Serialize(w io.Writer) error {
	for _, e := range k.list {
		if err := serializePublic(w, e); err != nil {
			return fmt.Errorf("keyring: write: %w", err)
		}
	}
	return nil
}

func serializePublic(w io.Writer, e *openpgp.Entity) error {
	if err := e.PrimaryKey.Serialize(w); err != nil {
		return err
	}
	for _, s := range append(append([]*packet.Signature{}, e.Revocations...), e.Signatures...) {
		if err := s.Serialize(w); err != nil {
			return err
		}
	}
	for _, id := range sortedIdentities(e) {
		if err := id.UserId.Serialize(w); err != nil {
			return err
		}
		sigs := id.Signatures
		if len(sigs) == 0 && id.SelfSignature != nil {
			sigs = []*packet.Signature{id.SelfSignature}
		}
		for _, s := range appendNewSigs(append([]*packet.Signature{}, sigs...), id.Revocations) {
			if err := s.Serialize(w); err != nil {
				return err
			}
		}
	}
	for _, s := range e.Subkeys {
		if err := s.PublicKey.Serialize(w); err != nil {
			return err
		}
		for _, r := range s.Revocations {
			if err := r.Serialize(w); err != nil {
				return err
			}
		}
		if s.Sig != nil {
			if err := s.Sig.Serialize(w); err != nil {
				return err
			}
		}
	}
	return nil
}

// sortedIdentities lists e's user IDs, the primary one first.
func sortedIdentities(e *openpgp.Entity) []*openpgp.Identity {
	primary := e.PrimaryIdentity()
	ids := make([]*openpgp.Identity, 0, len(e.Identities))
	for _, id := range e.Identities {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if (ids[i] == primary) != (ids[j] == primary) {
			return ids[i] == primary
		}
		return ids[i].Name < ids[j].Name
	})
	return ids
}

// Lookup finds keys as gpg's key specifiers do: a key ID (8 or 16 hex
// digits, optionally 0x-prefixed) or fingerprint of the key or one of its
// subkeys, "<email>" for an exact address, or else a case-insensitive
// substring of a user ID.
func (k *Keyring) Lookup(spec string) []*openpgp.Entity {
	var out []*openpgp.Entity
	for _, e := range k.list {
		if entityMatches(e, spec) {
			out = append(out, e)
		}
	}
	return out
}

func entityMatches(e *openpgp.Entity, spec string) bool {
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(spec, "0x"), "0X"), "!")
	if isHex(s) && (len(s) == 8 || len(s) == 16 || len(s) == 40 || len(s) == 64) {
		s = strings.ToUpper(s)
		keys := []*packet.PublicKey{e.PrimaryKey}
		for _, sk := range e.Subkeys {
			keys = append(keys, sk.PublicKey)
		}
		for _, pk := range keys {
			if strings.HasSuffix(Fingerprint(pk.Fingerprint), s) {
				return true
			}
		}
		return false
	}
	for _, id := range e.Identities {
		switch {
		case strings.HasPrefix(spec, "<") && strings.HasSuffix(spec, ">"):
			if strings.EqualFold(id.UserId.Email, spec[1:len(spec)-1]) {
				return true
			}
		case strings.HasPrefix(spec, "="):
			if id.Name == spec[1:] {
				return true
			}
		default:
			if strings.Contains(strings.ToLower(id.Name), strings.ToLower(spec)) {
				return true
			}
		}
	}
	return false
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && s != ""
}

// Fingerprint formats a key fingerprint as gpg prints it: upper-case hex.
func Fingerprint(fp []byte) string { return strings.ToUpper(hex.EncodeToString(fp)) }

// KeyInfo describes a key for `remote list-gpg-keys`.
type KeyInfo struct {
	Subkeys []SubkeyInfo // the primary key first
	UIDs    []UIDInfo
}

// SubkeyInfo is a primary key or subkey.
type SubkeyInfo struct {
	Fingerprint string
	Created     time.Time
	Expires     time.Time // zero: never
	Revoked     bool
	Expired     bool
	Invalid     bool
}

// UIDInfo is a user ID.
type UIDInfo struct {
	UID, Name, Comment, Email string
	Revoked, Invalid          bool
	// AdvancedURL and DirectURL are the email's OpenPGP Web Key
	// Directory addresses ("" without a valid email).
	AdvancedURL, DirectURL string
}

// Keys describes every key, in keyring order.
func (k *Keyring) Keys(now time.Time) []KeyInfo {
	var out []KeyInfo
	for _, e := range k.list {
		self, _ := e.PrimarySelfSignature()
		ki := KeyInfo{Subkeys: []SubkeyInfo{subkeyInfo(e.PrimaryKey, self, e.Revoked(now), now)}}
		for _, s := range e.Subkeys {
			ki.Subkeys = append(ki.Subkeys, subkeyInfo(s.PublicKey, s.Sig, s.Revoked(now), now))
		}
		for _, id := range sortedIdentities(e) {
			u := UIDInfo{
				UID: id.Name, Name: id.UserId.Name, Comment: id.UserId.Comment, Email: id.UserId.Email,
				Revoked: id.Revoked(now),
			}
			// gpgme hands ostree the address lower-cased.
			u.AdvancedURL, u.DirectURL = WKDURLs(strings.ToLower(u.Email))
			ki.UIDs = append(ki.UIDs, u)
		}
		out = append(out, ki)
	}
	return out
}

func subkeyInfo(pk *packet.PublicKey, self *packet.Signature, revoked bool, now time.Time) SubkeyInfo {
	s := SubkeyInfo{Fingerprint: Fingerprint(pk.Fingerprint), Created: pk.CreationTime, Revoked: revoked}
	if t, ok := KeyExpiry(pk, self); ok {
		s.Expires = t
		s.Expired = !now.Before(t)
	}
	return s
}

// KeyExpiry is when pk expires according to its self-signature.
func KeyExpiry(pk *packet.PublicKey, self *packet.Signature) (time.Time, bool) {
	if self == nil || self.KeyLifetimeSecs == nil || *self.KeyLifetimeSecs == 0 {
		return time.Time{}, false
	}
	return pk.CreationTime.Add(time.Duration(*self.KeyLifetimeSecs) * time.Second), true
}

// DescribeKeys renders keys as `ostree remote list-gpg-keys` prints them
// (ot_dump_gpg_key), one block per key.
func DescribeKeys(keys []KeyInfo) string {
	var b strings.Builder
	sub := func(s SubkeyInfo, primary bool) {
		label, indent := "  Subkey", "    "
		if primary {
			label, indent = "Key", "  "
		}
		b.WriteString(label + ": " + s.Fingerprint)
		if s.Revoked {
			b.WriteString(" (revoked)")
		}
		if s.Invalid {
			b.WriteString(" (invalid)")
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "%sCreated: %s\n", indent, CTime(s.Created))
		if !s.Expires.IsZero() {
			verb := "Expires"
			if s.Expired {
				verb = "Expired"
			}
			fmt.Fprintf(&b, "%s%s: %s\n", indent, verb, CTime(s.Expires))
		}
	}
	for _, k := range keys {
		sub(k.Subkeys[0], true)
		for _, u := range k.UIDs {
			b.WriteString("  UID: " + u.UID)
			if u.Revoked {
				b.WriteString(" (revoked)")
			}
			if u.Invalid {
				b.WriteString(" (invalid)")
			}
			fmt.Fprintf(&b, "\n  Advanced update URL: %s\n  Direct update URL: %s\n", u.AdvancedURL, u.DirectURL)
		}
		for _, s := range k.Subkeys[1:] {
			sub(s, false)
		}
	}
	return b.String()
}

// CTime formats t as GLib's g_date_time_format(local, "%c") in the C
// locale, "%a %b %e %H:%M:%S %Y": GLib pads %e with U+2007 FIGURE SPACE,
// so 4 December prints "Fri Dec \u20074 16:16:14 2026". ostree prints
// signature and key times so.
func CTime(t time.Time) string {
	t = t.Local()
	day := strconv.Itoa(t.Day())
	if len(day) == 1 {
		day = "\u2007" + day
	}
	return t.Format("Mon Jan ") + day + t.Format(" 15:04:05 2006")
}

// WKDURLs are the OpenPGP Web Key Directory URLs of an email address, as
// ostree's ot_gpg_wkd_urls makes them: the local part lower-cased, hashed
// with SHA-1 and z-base-32 encoded, and also given escaped as "?l=".
func WKDURLs(email string) (advanced, direct string) {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || strings.Contains(domain, "@") {
		return "", ""
	}
	sum := sha1.Sum([]byte(strings.ToLower(local)))
	enc := zbase32(sum[:])
	esc := uriEscape(local)
	advanced = fmt.Sprintf("https://openpgpkey.%s/.well-known/openpgpkey/%s/hu/%s?l=%s", domain, strings.ToLower(domain), enc, esc)
	direct = fmt.Sprintf("https://%s/.well-known/openpgpkey/hu/%s?l=%s", domain, enc, esc)
	return advanced, direct
}

// zbase32 encodes b (RFC 6189 section 5.1.6 alphabet), 5 bits at a time.
func zbase32(b []byte) string {
	const alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769"
	var out strings.Builder
	var acc uint32
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			out.WriteByte(alphabet[(acc>>(bits-5))&31])
			bits -= 5
		}
	}
	if bits > 0 {
		out.WriteByte(alphabet[(acc<<(5-bits))&31])
	}
	return out.String()
}

// uriEscape is g_uri_escape_string(s, NULL, FALSE): every byte but the
// unreserved characters percent-encoded, upper-case hex.
func uriEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
