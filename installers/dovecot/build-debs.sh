#!/usr/bin/env bash
# Builds installable .deb packages of the cur/-only Dovecot. Not run by the tests (it takes most
# of an hour on 2 cores: Debian's build uses LTO and builds every test program).
#
#   installers/dovecot/build-debs.sh 12 [outdir]   Debian 12 (bookworm), Dovecot 2.3, on this host
#   installers/dovecot/build-debs.sh 13 [outdir]   Debian 13 (trixie), Dovecot 2.4, in a trixie
#                                                  chroot made with debootstrap (needs root)
#
# The Debian source package gets our patch as the last entry of debian/patches/series and a
# changelog entry whose version carries "+mailmesh6", so `dpkg -l` and `dovecot --version` both
# tell the build from stock. Install the result with `apt install ./dovecot-core_*.deb
# ./dovecot-imapd_*.deb` and hold it (`apt-mark hold dovecot-core dovecot-imapd`).
# Packages land in outdir (default ${MAILMESH_CACHE:-/var/cache/mailmesh}/debs-<12|13>).
set -euo pipefail

release=${1:-}
case "$release" in
  12) line=2.3 ;;
  13) line=2.4 ;;
  *) echo "usage: $0 12|13 [outdir]" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
patch_file=$here/$line/mailmesh-cur-only.patch
[ -f "$patch_file" ] || { echo "build-debs: no patch for Dovecot $line yet ($patch_file)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "build-debs: run as root (build-dep, chroot)" >&2; exit 2; }
cache=${MAILMESH_CACHE:-/var/cache/mailmesh}
outdir=${2:-$cache/debs-$release}
mkdir -p "$cache" "$outdir"

# shellcheck source=debian-source.sh
. "$here/debian-source.sh"
[ -z "$older_note" ] || echo "build-debs: $older_note" >&2

work=$cache/build/debs-$release
tree=$(unpack_source "$work")
cp "$patch_file" "$tree/debian/patches/mailmesh-cur-only.patch"
echo "mailmesh-cur-only.patch" >> "$tree/debian/patches/series"
version="${chosen}+mailmesh6"
{
  echo "dovecot (${version}) UNRELEASED; urgency=medium"
  echo
  echo "  * Mailmesh: maildir_cur_only setting (new/ -> cur/, no duplicate renames)."
  echo
  echo " -- Mailmesh <mailmesh@localhost>  $(date -R)"
  echo
  cat "$tree/debian/changelog"
} > "$tree/debian/changelog.new"
mv "$tree/debian/changelog.new" "$tree/debian/changelog"

build_in() { # $1: root ("" for this host), $2: tree path as seen inside
  local root=$1 inside=$2 run=()
  [ -z "$root" ] || run=(chroot "$root")
  "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q "$inside"
  "${run[@]}" sh -c "cd '$inside' && DEB_BUILD_OPTIONS='nocheck parallel=$(nproc)' \
      dpkg-buildpackage -b -uc -us"
}

start=$(date +%s)
if [ "$release" = 12 ]; then
  build_in "" "$tree"
  cp "$(dirname "$tree")"/*.deb "$outdir"/
else
  # A trixie chroot, kept in the cache for the next build.
  chroot_dir=$cache/chroot-trixie
  if [ ! -x "$chroot_dir/usr/bin/dpkg-buildpackage" ]; then
    command -v debootstrap >/dev/null || apt-get install -y -q debootstrap
    debootstrap --variant=buildd --include=ca-certificates trixie "$chroot_dir" "$mirror/debian"
    echo "deb $mirror/debian trixie main" > "$chroot_dir/etc/apt/sources.list"
    echo "deb $mirror/debian-security trixie-security main" >> "$chroot_dir/etc/apt/sources.list"
    chroot "$chroot_dir" apt-get update -q
  fi
  mount -t proc proc "$chroot_dir/proc"
  trap 'umount "$chroot_dir/proc" || true' EXIT
  rm -rf "$chroot_dir/build"
  mkdir -p "$chroot_dir/build"
  cp -a "$(dirname "$tree")/." "$chroot_dir/build/"
  build_in "$chroot_dir" "/build/$(basename "$tree")"
  cp "$chroot_dir"/build/*.deb "$outdir"/
fi
echo "build-debs: Debian $release packages in $outdir after $(( $(date +%s) - start )) s" >&2
ls "$outdir"/*.deb
