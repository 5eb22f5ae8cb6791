#!/usr/bin/env bash
# Builds the cur/-only Dovecot into a prefix cached outside the repository and prints that prefix.
#
#   installers/dovecot/build-prefix.sh [2.3|2.4]        (default 2.3)
#
# The prefix is ${MAILMESH_CACHE:-/var/cache/mailmesh}/dovecot-<line>-<sha256 of the patch, 16 hex>/
# and is rebuilt only when it is missing (a cold build of 2.3 takes ~16 min on 2 cores). Only the
# prefix path goes to stdout; progress goes to stderr and the build logs stay in the cache.
#
# Sources come from Debian's mirror (the only network this needs): a private apt list under the
# cache (the machine's apt configuration is never touched) gives the signed Sources index, and
# every downloaded file is checked against the sha256 that index lists. Debian's own patches are
# applied first, then ours. The source version is pinned; when the version the node runs cannot
# be downloaded, an older one is used only with a loud warning, never silently.
set -euo pipefail

line=${1:-2.3}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
patch_file=$here/$line/mailmesh-cur-only.patch
mirror=${MAILMESH_DEBIAN_MIRROR:-http://deb.debian.org}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

case "$line" in
  # Newest first. Debian 12's security update is preferred; its source has 404'd on the mirror.
  2.3) versions=("1:2.3.19.1+dfsg1-2.1+deb12u7" "1:2.3.19.1+dfsg1-2.1+deb12u6")
       suites=(bookworm bookworm-updates bookworm-security) ;;
  2.4) versions=("1:2.4.1+dfsg1-6+deb13u7")
       suites=(trixie trixie-updates trixie-security) ;;
  *) echo "usage: $0 [2.3|2.4]" >&2; exit 2 ;;
esac
[ -f "$patch_file" ] || { echo "build-prefix: no patch $patch_file" >&2; exit 2; }

log() { echo "build-prefix: $*" >&2; }

cache=${MAILMESH_CACHE:-/var/cache/mailmesh}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/mailmesh
  mkdir -p "$cache"
fi
sha=$(sha256sum "$patch_file" | cut -c1-16)
prefix=$cache/dovecot-$line-$sha

if [ -f "$prefix/.mailmesh-complete" ]; then
  echo "$prefix"
  exit 0
fi

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

# Private apt state: only deb-src lines, signed by the Debian archive keyring.
aptdir=$cache/apt-$line
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
: > "$aptdir/sources.list"
for s in "${suites[@]}"; do
  base=$mirror/debian
  [[ $s == *-security ]] && base=$mirror/debian-security
  echo "deb-src [signed-by=$keyring] $base $s main" >> "$aptdir/sources.list"
done
apt_opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=-
          -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
          -o "Dir::State::status=/dev/null")
log "updating the private Sources index in $aptdir"
apt-get "${apt_opts[@]}" update -q >&2

# "sha256 size name" lines of one source version, from the signed index.
checksums_of() {
  apt-cache "${apt_opts[@]}" showsrc dovecot | awk -v want="$1" '
    /^Package:/ { inrec = 0 }
    /^Version:/ { inrec = ($2 == want) }
    /^Directory:/ && inrec { print "DIR " $2 }
    /^Checksums-Sha256:/ { sums = inrec; next }
    sums && /^ / { print; next }
    { sums = 0 }' | awk '!seen[$0]++'
}

# Downloads the orig tarball and the Debian tarball of a version into $srcdir; 0 when both verify.
fetch_version() {
  local version=$1 srcdir=$2 info dirs name want got ok=0
  info=$(checksums_of "$version")
  [ -n "$info" ] || return 1
  mapfile -t dirs < <(sed -n 's/^DIR //p' <<<"$info")
  mkdir -p "$srcdir"
  while read -r want _ name; do
    [[ $name == *.tar.* && $name != *.asc ]] || continue
    if [ -f "$srcdir/$name" ] && [ "$(sha256sum "$srcdir/$name" | cut -d' ' -f1)" = "$want" ]; then
      continue
    fi
    got=0
    for d in "${dirs[@]}"; do
      for archive in debian debian-security; do
        if curl -sf -o "$srcdir/$name.part" "$mirror/$archive/$d/$name" &&
           [ "$(sha256sum "$srcdir/$name.part" | cut -d' ' -f1)" = "$want" ]; then
          mv "$srcdir/$name.part" "$srcdir/$name"
          got=1
          break 2
        fi
      done
    done
    rm -f "$srcdir/$name.part"
    [ $got -eq 1 ] || { log "cannot download $name of $version"; ok=1; }
  done < <(grep -v '^DIR ' <<<"$info")
  return $ok
}

installed=$(dpkg-query -W -f='${Version}' dovecot-core 2>/dev/null || true)
chosen=
for v in "${versions[@]}"; do
  srcdir=$cache/src/dovecot-$v
  if fetch_version "$v" "$srcdir"; then chosen=$v; break; fi
  log "source of dovecot $v is not downloadable, trying the next pinned version"
done
[ -n "$chosen" ] || { log "no pinned dovecot $line source could be downloaded"; exit 3; }

older_note=
if [ -n "$installed" ] && [ "${installed%%.*}" = "${chosen%%.*}" ] &&
   [[ ${installed#*:} == ${line}.* ]] && dpkg --compare-versions "$chosen" lt "$installed"; then
  older_note="built from $chosen, OLDER than the installed dovecot-core $installed"
  {
    echo "################################################################################"
    echo "# WARNING: building dovecot $chosen, which is OLDER than the installed $installed"
    echo "# because the installed version's source is not downloadable from $mirror."
    echo "# This prefix is for tests; do not deploy it over the newer system package."
    echo "################################################################################"
  } >&2
fi

# Unpack: upstream tarball, Debian's directory, Debian's patch series, then ours.
work=$cache/build/dovecot-$line-$sha
rm -rf "$work"
mkdir -p "$work"
tar -xzf "$srcdir"/dovecot_*.orig.tar.gz -C "$work"
tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n1)
tar -xJf "$srcdir"/dovecot_*.debian.tar.xz -C "$tree"
for component in "$srcdir"/dovecot_*.orig-*.tar.gz; do
  [ -f "$component" ] || continue
  name=${component##*.orig-}
  name=${name%.tar.gz}
  mkdir -p "$tree/$name"
  tar -xzf "$component" -C "$tree/$name" --strip-components=1
done
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
  nice ./configure --prefix="$prefix" --with-ssl=openssl --without-docs \
    > "$work/configure.log" 2>&1
  nice make -j"$(nproc)" > "$work/make.log" 2>&1
  rm -rf "$prefix"
  make install > "$work/install.log" 2>&1
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
