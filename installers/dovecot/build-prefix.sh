#!/usr/bin/env bash
# Builds the cur/-only Dovecot into a prefix cached outside the repository and prints that prefix.
#
#   installers/dovecot/build-prefix.sh [--if-built] [2.3|2.4]        (default 2.3)
#
# The prefix is ${MAILMESH_CACHE:-/var/cache/mailmesh}/dovecot-<line>-<sha256 of the patch, 16 hex>/
# and is rebuilt only when it is missing (a cold build of 2.3 took 23 min beside the rest of a
# fresh test run on 2 cores; installers/dovecot/README.md has the figures). Only
# the prefix path goes to stdout; progress goes to stderr and the build logs stay in the cache
# until the build succeeds.
#
# Sources come from Debian's mirror (the only network this needs): a private apt list under the
# cache (the machine's apt configuration is never touched) gives the signed Sources index, and
# every downloaded file is checked against the sha256 that index lists (debian-source.sh).
# Debian's own patches are applied first, then ours. The source version is pinned; when the
# version the node runs cannot be downloaded, an older one is used only with a loud warning,
# never silently.
set -euo pipefail

# --if-built: print the cached prefix, or exit 1 at once when it is not built yet.
if_built=0
if [ "${1:-}" = --if-built ]; then
  if_built=1
  shift
fi
line=${1:-2.3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
patch_file=$here/$line/mailmesh-cur-only.patch
case "$line" in
  2.3|2.4) ;;
  *) echo "usage: $0 [2.3|2.4]" >&2; exit 2 ;;
esac
[ -f "$patch_file" ] || { echo "build-prefix: no patch $patch_file" >&2; exit 2; }

log() { echo "build-prefix: $*" >&2; }

cache=${MAILMESH_CACHE:-/var/cache/mailmesh}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/mailmesh
  mkdir -p "$cache"
fi
# Configure options beyond the common ones below. 2.4 goes to Debian 13 nodes too (the lab's
# `deploy-dovecot --prefix`), whose libraries differ from this host's: without ICU (only full-text
# search's normalisation uses it) the build needs no library Debian 13 lacks; a bookworm-built
# 2.4 failed there on libicui18n.so.72. They are part of the cache key; none for 2.3 keeps its key.
line_options=()
[ "$line" = 2.3 ] || line_options=(--without-icu)
if [ ${#line_options[@]} -eq 0 ]; then
  sha=$(sha256sum "$patch_file" | cut -c1-16)
else
  sha=$({ cat "$patch_file"; printf '%s\n' "${line_options[@]}"; } | sha256sum | cut -c1-16)
fi
prefix=$cache/dovecot-$line-$sha

if [ -f "$prefix/.mailmesh-complete" ]; then
  echo "$prefix"
  exit 0
fi
[ "$if_built" -eq 0 ] || exit 1

# One build at a time per cache (CI jobs and engineers may share it).
exec 9>"$cache/.dovecot-build.lock"
flock 9
if [ -f "$prefix/.mailmesh-complete" ]; then
  echo "$prefix"
  exit 0
fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Build tools and the libraries our configure line uses (Debian's patches touch configure.ac,
# hence autoreconf).
needed=(build-essential autoconf automake libtool pkg-config bison flex gettext curl
        libssl-dev zlib1g-dev libbz2-dev liblzma-dev libzstd-dev liblz4-dev libcap-dev
        libpam0g-dev debian-archive-keyring)
missing=()
for p in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >&2
fi

# Sets $chosen, $srcdir, $older_note; defines unpack_source.
# shellcheck source=debian-source.sh
. "$here/debian-source.sh"

work=$cache/build/dovecot-$line-$sha
tree=$(unpack_source "$work")
if [ -f "$tree/debian/patches/series" ]; then
  while read -r p _; do
    [ -n "$p" ] && [[ $p != \#* ]] || continue
    patch -d "$tree" -p1 --batch --quiet < "$tree/debian/patches/$p" >&2
  done < "$tree/debian/patches/series"
fi
log "applying $(basename "$patch_file")"
patch -d "$tree" -p1 --batch --fuzz=0 < "$patch_file" >&2

start=$(date +%s)
log "building dovecot $chosen + mailmesh patch into $prefix (logs in $work)"
(
  cd "$tree"
  nice autoreconf -fi > "$work/autoreconf.log" 2>&1
  # --disable-static: libtool otherwise compiles every file twice (PIC and not) for static
  # libraries that nothing here links; half the compile time of a cold build. No debug info
  # (-g0): the prefix is for tests, the demo and trials; Debian packages (build-debs.sh) carry
  # their own debug symbols.
  nice ./configure --prefix="$prefix" --with-ssl=openssl --without-docs \
    --disable-static --disable-dependency-tracking "${line_options[@]}" CFLAGS="-O2 -g0" \
    > "$work/configure.log" 2>&1
  # noinst_PROGRAMS= : Dovecot's own unit tests (and a few fuzzers) are built by `make all`
  # though nothing installs them; about a fifth of the compile and two fifths of the links.
  make_vars=(noinst_PROGRAMS=)
  # 2.4.1 links its auth test program against lib-lua even when configure found no Lua.
  grep -q '^#define HAVE_LUA 1' config.h || make_vars+=(LIBDOVECOT_LUA=)
  nice make -j"$(nproc)" "${make_vars[@]}" > "$work/make.log" 2>&1
  rm -rf "$prefix"
  make install "${make_vars[@]}" > "$work/install.log" 2>&1
) || { log "build failed, see the logs in $work"; exit 3; }

{
  echo "line=$line"
  echo "source=$chosen"
  echo "installed=$installed"
  echo "patch=$(basename "$patch_file") sha256=$(sha256sum "$patch_file" | cut -d' ' -f1)"
  echo "seconds=$(( $(date +%s) - start ))"
  [ -z "$older_note" ] || echo "warning=$older_note"
} > "$prefix/MAILMESH-BUILD-INFO"
touch "$prefix/.mailmesh-complete"
rm -rf "$work"
log "done in $(( $(date +%s) - start )) s"
echo "$prefix"
