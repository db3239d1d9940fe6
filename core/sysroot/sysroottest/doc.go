// Package sysroottest builds what sysroot tests, benchmarks and the demo
// need: fake operating-system trees shaped like ostree's
// tests/libtest.sh setup_os_repository (a kernel and initramfs under
// usr/lib/modules/KVER, os-release and a few configuration files under
// usr/etc), commits of them, and fresh sysroots. It writes real files and
// real commits (through package compose); nothing here is a stub.
//
// It must not be needed by production code paths other than the demo
// (core/demo) and the benchmarks: it imports the compose and sysroot
// packages only to write trees and commits.
package sysroottest
