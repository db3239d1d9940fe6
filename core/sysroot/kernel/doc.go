// Package kernel reads what a deployment tree says about booting it: where
// its kernel, initramfs, device trees and FIPS HMAC are (usr/lib/modules/
// KVER, else the legacy usr/lib/ostree-boot or boot with checksummed
// names), the boot checksum that names boot/ostree/OS-BOOTCSUM, and the
// boot entry title from os-release (with GLib's shell unquoting), all as
// libostree 2022.7 does. It only reads files; it is a leaf (standard
// library and core/oid).
package kernel
