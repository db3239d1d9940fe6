#!/usr/bin/env bash
# Regenerates the shared fixture repositories under testdata/ostree/ with
# the real ostree (Debian's 2022.7): one repository per mode, each holding
#   main          two commits (a small tree, then a rich one with metadata
#                 of every common type and detached metadata)
#   other/branch  an orphan commit without bindings' parent
#   origin:remote/ref  a remote ref to main^
#   stable        an alias (symlink) of main
# Timestamps, owners and xattrs are pinned, so every run writes the same
# commit checksums (listed in commits.txt, which core/repotest checks).
# Each repository is stored as MODE.tar.gz with xattrs (bare-user keeps
# its metadata in user.ostreemeta) and numeric owners.
#
# Usage: testdata/ostree/make-repos.sh [OUTDIR]   (default: this directory)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The rich tree: what the compatibility tests demand (see repotest.RichTree).
t=$work/tree
mkdir -p "$t/usr/bin" "$t/etc/private" "$t/tmp" "$t/var/empty/nested/deeper" \
  "$t/usr/share/doc/naïve café" "$t/usr/lib"
: > "$t/empty"
printf 'hello\n' > "$t/small.txt"
python3 -c 'import sys; b=bytearray(b"0123456789abcdef grove big file\n"*40000); b[12345]=0; sys.stdout.buffer.write(b)' > "$t/big.bin"
printf '#!/bin/sh\necho tool\n' > "$t/usr/bin/tool"
printf 'setuid\n' > "$t/usr/bin/suid"
printf 'setgid\n' > "$t/usr/bin/sgid"
printf 'NAME=Grove\nVERSION_ID=1\n' > "$t/etc/os-release"
printf 's3cret\n' > "$t/etc/secret"
printf 'non-ascii ✓\n' > "$t/usr/share/doc/naïve café/日本語.txt"
printf 'xattrs\n' > "$t/usr/lib/withxattr"
ln -s ../bin/tool "$t/usr/bin/relative-link"
ln -s /usr/bin/tool "$t/usr/bin/absolute-link"
ln -s does/not/exist "$t/dangling"
ln -s usr/bin "$t/bin"
ln "$t/small.txt" "$t/usr/hardlink.txt"
find "$t" -type d -exec chmod 0755 {} +
find "$t" -type f -exec chmod 0644 {} +
chmod 0755 "$t/usr/bin/tool"; chmod 4755 "$t/usr/bin/suid"; chmod 2755 "$t/usr/bin/sgid"
chmod 1777 "$t/tmp"; chmod 0600 "$t/etc/secret"; chmod 0700 "$t/etc/private"
setfattr -n user.foo -v bar "$t/usr/lib/withxattr"
setfattr -n user.abc -v 1 "$t/usr/lib/withxattr"
setfattr -n user.dir -v dirattr "$t/usr/lib"

s=$work/small
mkdir -p "$s"; chmod 0755 "$s"
printf 'hello\n' > "$s/hello"; chmod 0644 "$s/hello"

: > "$out/commits.txt.new"
for mode in archive bare-user bare bare-user-only; do
  r=$work/$mode
  o() { ostree --repo="$r" "$@"; }
  o init --mode="$mode"
  common=(--owner-uid=0 --owner-gid=0)
  c1=$(o commit -b main --timestamp=2020-01-01T00:00:00Z -s "first commit" \
    --add-metadata-string=version=1.0 "${common[@]}" "$s")
  c2=$(o commit -b main --timestamp=2020-01-02T03:04:05Z -s "rich tree" \
    -m $'body line 1\nline 2\n\nlast paragraph' --add-metadata-string=version=2.0 \
    --add-metadata=num=42 "--add-metadata=arr=['a','b']" "--add-metadata=big=uint64 7" \
    --add-metadata=flag=true --add-detached-metadata-string=sig=xyz "${common[@]}" "$t")
  c3=$(o commit -b other/branch --timestamp=2021-06-01T00:00:00Z -s "" --orphan "${common[@]}" "$s")
  o refs --create=origin:remote/ref main^
  o refs --create=stable --alias main
  o fsck -q >/dev/null
  printf '%s main^ %s\n%s main %s\n%s other/branch %s\n' "$mode" "$c1" "$mode" "$c2" "$mode" "$c3" >> "$out/commits.txt.new"
  # Deterministic archive: sorted names, numeric owners, no tmp/ leftovers.
  rm -rf "$r/tmp"/* "$r/.lock"
  tar --sort=name --numeric-owner --xattrs --xattrs-include='user.*' \
    --mtime=2020-01-01 -C "$work" -cf - "$mode" | gzip -9n > "$out/$mode.tar.gz"
done
mv "$out/commits.txt.new" "$out/commits.txt"
