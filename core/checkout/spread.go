package checkout

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// fsTopdirFl is FS_TOPDIR_FL (chattr +T) from linux/fs.h.
const fsTopdirFl = 0x00020000

// spreadDir marks a directory the checkout has just created as a "top of
// hierarchy" for as long as the checkout runs; it returns the directory's
// own flags for unspreadDir and whether it changed them.
//
// ext4's Orlov allocator then places each subdirectory (and the files and
// symlinks made in it, which follow their directory) in the least used
// block group instead of next to its parent, as it does for the children
// of a filesystem's root. Why: on ext4 without a journal every new inode
// is chosen by scanning its group from the start past each inode freed in
// the last minute (recently_deleted reads its inode-table block). A tree
// checked out where one was just removed (a redeployment, a benchmark
// loop) paid that scan for every inode, quadratic in the tree: half the
// system time of a hardlink checkout and most of an archive one. Spread,
// a group holds a few dozen of the tree's inodes, not thousands. Only
// where inodes are placed changes, never a name, mode, owner, time or
// attribute of the result: unspreadDir restores the flags before the
// directory gets its final mode. Best effort: filesystems without the flag
// refuse or ignore it. Only done where the scan happens (scansFreedInodes):
// with a journal ext4 skips it, and spreading would only scatter the tree.
func (co *checkouter) spreadDir(fd int) (flags uint32, ok bool) {
	if co.noSpread.Load() {
		return 0, false
	}
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil || flags&fsTopdirFl != 0 {
		co.noSpread.Store(err != nil)
		return 0, false
	}
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags|fsTopdirFl)); err != nil {
		// Not ext4 (tmpfs, XFS and btrfs refuse the flag): stop trying.
		co.noSpread.Store(true)
		return 0, false
	}
	return flags, true
}

// unspreadDir puts back the flags spreadDir found.
func unspreadDir(fd int, flags uint32) {
	_ = unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags))
}

// scansFreedInodes reports whether the directory is on an ext4 filesystem
// without a journal, the one whose inode allocator skips recently freed
// inodes one by one. The kernel names the journal's thread in
// /sys/fs/ext4/<device>/journal_task ("<none>" without one); anything
// that cannot be read counts as a journal.
func scansFreedInodes(fd int) bool {
	var sfs unix.Statfs_t
	if unix.Fstatfs(fd, &sfs) != nil || sfs.Type != unix.EXT4_SUPER_MAGIC {
		return false
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return false
	}
	dev, err := os.Readlink("/sys/dev/block/" + strconv.FormatUint(uint64(unix.Major(st.Dev)), 10) + ":" + strconv.FormatUint(uint64(unix.Minor(st.Dev)), 10))
	if err != nil {
		return false
	}
	b, err := os.ReadFile("/sys/fs/ext4/" + filepath.Base(dev) + "/journal_task")
	return err == nil && strings.TrimSpace(string(b)) == "<none>"
}
