// Package keyring reads and writes sets of OpenPGP keys in the forms
// OSTree users meet: binary keyrings (pubring.gpg, trustedkeys.gpg,
// <remote>.trustedkeys.gpg, `gpg --export`), ASCII-armored exports, and
// GnuPG 2.1's keybox (pubring.kbx). Keys are parsed by ProtonMail/go-crypto;
// the keybox container is parsed here (kbx.go), since no maintained Go
// library reads it, and fuzzed. Keys met twice are merged as gpg's import
// merges them. Lookup takes gpg's key specifiers (key IDs, fingerprints,
// user IDs).
//
// It knows nothing of OSTree, signatures or where keyrings live: package
// sign decides that. It never prints.
package keyring
