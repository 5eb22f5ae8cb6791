#!/usr/bin/env bash
# The Debian package, installed and purged in a throw-away Debian chroot:
#
#   tests/package/test-deb.sh BUILD_DIR
#
# Packs BUILD_DIR with cpack, checks the .deb's contents, installs it with `apt-get install
# ./mailmesh_*.deb` in a debootstrap chroot, runs `mailmeshctl --version`, `mailmesh
# --self-check` (offscreen: the main window is shown and the installed agent is found) and the
# agent, then purges the package and checks that the chroot holds exactly the files it held
# before the install.
#
# The host is never changed beyond a temp dir that is removed (with its /proc mount) on exit and
# the chroot base cached in ${MAILMESH_CACHE:-/var/cache/mailmesh}: debootstrap's minbase plus
# the package's Depends, keyed by suite, mirrors and that list, so later runs skip debootstrap.
# Needs root (debootstrap, chroot, mount); exits 77 (skipped) without it. MAILMESH_TEST_DEB=FILE
# tests that .deb (e.g. from installers/package/build-deb.sh) instead of packing BUILD_DIR.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then exec sudo -n "$0" "$@"; fi
  echo "test-deb: skipped: needs root (debootstrap, chroot, mount)" >&2
  exit 77
fi
for tool in cpack dpkg-deb debootstrap desktop-file-validate appstreamcli; do
  command -v "$tool" >/dev/null || { echo "test-deb: $tool is missing (installers/bootstrap.sh deps)" >&2; exit 1; }
done

build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
suite=bookworm
cache=${MAILMESH_CACHE:-/var/cache/mailmesh}
started=$SECONDS
step() { echo "test-deb: [$((SECONDS - started))s] $*"; }
fail() { echo "test-deb: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d /var/tmp/mailmesh-test-deb.XXXXXX)
root=$work/root
cleanup() {
  local mount
  # Deepest first; a mount that will not go stops the removal rather than letting rm reach it.
  for mount in $(findmnt -rn -o TARGET | grep -F "$work/" | sort -r); do
    umount "$mount" || umount -l "$mount" || true
  done
  if findmnt -rn -o TARGET | grep -qF "$work/"; then
    echo "test-deb: still mounted under $work, not removing it" >&2
    return
  fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

# The same Debian mirrors as the host (deb822 or one-line sources), else deb.debian.org.
host_uri() { # host_uri SUITE
  local uri
  uri=$(awk -v suite="$1" '
      /^[Uu][Rr][Ii][Ss]:/ { uris = $2 }
      /^[Ss]uites:/ { for (i = 2; i <= NF; i++) if ($i == suite && uris != "") { print uris; exit } }
      /^deb / { for (i = 3; i <= NF; i++) if ($i == suite) { u = ($2 ~ /^\[/) ? $3 : $2; print u; exit } }
    ' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1)
  echo "$uri"
}
mirror=$(host_uri "$suite"); mirror=${mirror:-http://deb.debian.org/debian}
security=$(host_uri "$suite-security"); security=${security:-http://deb.debian.org/debian-security}

if [ -n "${MAILMESH_TEST_DEB:-}" ]; then
  mkdir "$work/out" && cp "$MAILMESH_TEST_DEB" "$work/out/"
else
  step "packing $build_dir"
  cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 \
    || { cat "$work/cpack.log" >&2; fail "cpack"; }
fi
debs=("$work"/out/mailmesh_*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then fail "cpack made no single mailmesh_*.deb"; fi
deb=${debs[0]}
version=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg-deb -f "$deb" Architecture)
[ "$(basename "$deb")" = "mailmesh_${version}_${arch}.deb" ] || fail "file name $(basename "$deb")"

step "checking $(basename "$deb")"
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$work/contents"
app_id=io.github.mailmesh.Mailmesh
expected=(/usr/bin/mailmesh /usr/bin/mailmeshctl /usr/lib/mailmesh/mailmesh-agent
  "/usr/share/applications/$app_id.desktop" "/usr/share/metainfo/$app_id.metainfo.xml"
  "/usr/share/icons/hicolor/scalable/apps/$app_id.svg"
  /usr/share/man/man1/mailmesh.1.gz /usr/share/man/man1/mailmeshctl.1.gz
  /usr/share/man/man1/mailmesh-agent.1.gz
  /usr/share/doc/mailmesh/copyright /usr/share/doc/mailmesh/changelog.gz
  /usr/share/mailmesh/dovecot/README.md /usr/share/mailmesh/dovecot/build-prefix.sh
  /usr/share/mailmesh/dovecot/build-debs.sh /usr/share/mailmesh/dovecot/debian-source.sh)
for size in 16 22 24 32 48 64 128 256; do
  expected+=("/usr/share/icons/hicolor/${size}x${size}/apps/$app_id.png")
done
for patch in "$source_dir"/installers/dovecot/*/*.patch; do
  expected+=("/usr/share/mailmesh/dovecot/${patch#"$source_dir"/installers/dovecot/}")
done
for path in "${expected[@]}"; do
  grep -qxF "$path" "$work/contents" || fail "$path is not in the package"
done
depends=$(dpkg-deb -f "$deb" Depends)
for dep in openssh-client qt6-qpa-plugins libqt6widgets6; do
  [[ ", $depends," == *", $dep"[\ ,]* ]] || fail "Depends lacks $dep: $depends"
done
dpkg-deb -x "$deb" "$work/unpacked"
desktop-file-validate "$work/unpacked/usr/share/applications/$app_id.desktop" || fail "desktop file"
appstreamcli validate --no-net "$work/unpacked/usr/share/metainfo/$app_id.metainfo.xml" >"$work/as.log" 2>&1 \
  || { cat "$work/as.log" >&2; fail "metainfo"; }

# The chroot base: minbase plus the package's Depends (first alternative, no versions), so that
# installing the .deb adds exactly one package and purging it can be compared file by file.
mapfile -t dep_names < <(echo "$depends" | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' \
  | grep -v '^$' | sort -u)
key=$(printf '%s\n' base-v1 "$suite" "$mirror" "$security" "${dep_names[@]}" | sha256sum | cut -c1-16)
base=$cache/chroot-$suite-$key.tar.gz
if [ ! -f "$base" ]; then
  step "making the chroot base (debootstrap $suite from $mirror; once per dependency list)"
  mkdir -p "$cache"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; fail "debootstrap"; }
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
  # No service may start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"
  { in_root apt-get update -q &&
    in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${dep_names[@]}" &&
    in_root apt-get clean; } >"$work/apt-base.log" 2>&1 \
    || { umount "$root/proc"; tail -n 30 "$work/apt-base.log" >&2; fail "installing the dependencies"; }
  umount "$root/proc"
  tar -C "$root" --numeric-owner -cf - . | gzip -1 >"$base.tmp.$$"
  mv "$base.tmp.$$" "$base"
  rm -rf --one-file-system "$root"
fi
step "unpacking $base"
mkdir "$root"
tar -C "$root" --numeric-owner -xzpf "$base"

snapshot() { # the chroot's files and the installed packages
  (cd "$root" && find . -xdev \( -path ./proc -o -path ./var/cache/apt -o -path ./var/log \
    -o -path ./var/lib/dpkg -o -path ./var/lib/apt \) -prune -o -print | sort)
  # shellcheck disable=SC2016 # dpkg-query's format, not the shell's
  in_root dpkg-query -W -f 'package ${Package}\n'
}
snapshot >"$work/before"

step "apt-get install ./$(basename "$deb")"
cp "$deb" "$root/tmp/"
mount -t proc proc "$root/proc"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "/tmp/$(basename "$deb")" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "install"; }
# shellcheck disable=SC2016
added=$(in_root dpkg-query -W -f '${Package}\n' | grep -vxF -f <(sed -n 's/^package //p' "$work/before") || true)
[ "$added" = mailmesh ] || fail "the install added packages other than mailmesh: $added"

step "running the installed programs"
out=$(in_root mailmeshctl --version) || fail "mailmeshctl --version"
[ "$out" = "mailmeshctl $version" ] || fail "mailmeshctl --version printed '$out'"
out=$(in_root /usr/lib/mailmesh/mailmesh-agent --version) || fail "mailmesh-agent --version"
[ "$out" = "mailmesh-agent $version" ] || fail "mailmesh-agent --version printed '$out'"
mkdir -p "$root/tmp/home" && mkdir -m 700 "$root/tmp/home/run"
out=$(in_root env HOME=/tmp/home XDG_RUNTIME_DIR=/tmp/home/run QT_QPA_PLATFORM=offscreen \
  timeout 60 mailmesh --self-check 2>"$work/selfcheck.err") \
  || { cat "$work/selfcheck.err" >&2; echo "$out" >&2; fail "mailmesh --self-check"; }
while IFS= read -r line; do echo "  $line"; done <<<"$out"
grep -q '^window: shown on offscreen' <<<"$out" || fail "the main window was not shown"
grep -qx 'agent: /usr/lib/mailmesh/mailmesh-agent' <<<"$out" || fail "the app did not find the installed agent"

step "apt-get purge mailmesh"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q mailmesh >"$work/purge.log" 2>&1 \
  || { cat "$work/purge.log" >&2; fail "purge"; }
rm -rf "$root/tmp/home" "$root/tmp/$(basename "$deb")"
umount "$root/proc"
snapshot >"$work/after"
if ! diff -U0 "$work/before" "$work/after" >"$work/leftovers"; then
  cat "$work/leftovers" >&2
  fail "the chroot differs after the purge (above: - gone, + left behind)"
fi
step "ok: installed, ran and purged without a trace"
