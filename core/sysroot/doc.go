// Package sysroot reads and writes OSTree sysroots (the physical root of
// an OSTree-managed machine) exactly as libostree 2022.7 does, so that
// `ostree admin` and Grove can take turns on the same machine:
//
//	boot/loader -> loader.N            the live boot version (atomic rename)
//	boot/loader.N/entries/ostree-K-OS.conf
//	boot/ostree/OS-BOOTCSUM/           kernel, initramfs, devicetree
//	ostree/boot.N -> boot.N.M          bootlinks, M the sub-bootversion
//	ostree/boot.N.M/OS/BOOTCSUM/SERIAL -> ../../../deploy/OS/deploy/CSUM.SERIAL
//	ostree/deploy/OS/{var,deploy/CSUM.SERIAL[.origin]}
//	ostree/repo                        the system repository (bare)
//
// It owns loading (bootversion, entries, ostree= resolution, origins, the
// booted/pending/rollback marks), deploying (hardlink checkout, /etc copy
// and three-way merge through package etcmerge, kernel installation),
// writing a new deployment list (BLS entries, bootlinks, deployment refs,
// the one atomic swap of boot/loader), retention, cleanup and pruning,
// pinning, origins, kernel arguments, unlock, upgrade and rollback, and the
// sysroot lock (ostree/lock, an OFD lock compatible with a running
// `ostree admin`).
//
// It never prints: what libostree sends to its journal ("Copying /etc
// changes: …", "Bootloader updated; …") goes to Sysroot.OnMessage. Host
// paths (/, /run, /proc/cmdline) come from Env so that tests can simulate
// a booted machine without touching the host. Deliberate differences from
// libostree: no SELinux relabelling (the var/.ostree-selabeled stamp is
// still written), no fsfreeze/thaw of /boot and no global sync() (both
// file systems are syncfs'd), no staging of deployments for shutdown.
package sysroot
