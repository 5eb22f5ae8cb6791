# Sourced by build-prefix.sh and build-debs.sh: fetch a pinned Dovecot source from Debian's mirror, checked against
# the signed Sources index, without touching the machine's apt configuration.
#
# Needs: $line (2.3|2.4), $cache. Sets: $chosen (the Debian version), $srcdir (its files),
# $older_note (non-empty when $chosen is older than the installed dovecot-core).

mirror=${MAILMESH_DEBIAN_MIRROR:-http://deb.debian.org}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

case "$line" in
  # Newest first. Debian 12's security update is preferred; its source has 404'd on the mirror.
  2.3) versions=("1:2.3.19.1+dfsg1-2.1+deb12u7" "1:2.3.19.1+dfsg1-2.1+deb12u6")
       suites=(bookworm bookworm-updates bookworm-security) ;;
  2.4) versions=("1:2.4.1+dfsg1-6+deb13u7")
       suites=(trixie trixie-updates trixie-security) ;;
  *) echo "unknown Dovecot line $line (2.3 or 2.4)" >&2; return 2 ;;
esac

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
apt-get "${apt_opts[@]}" update -q >&2

# "sha256 size name" lines of one source version (and "DIR <pool dir>"), from the signed index.
checksums_of() {
  apt-cache "${apt_opts[@]}" showsrc dovecot | awk -v want="$1" '
    /^Package:/ { inrec = 0 }
    /^Version:/ { inrec = ($2 == want) }
    /^Directory:/ && inrec { print "DIR " $2 }
    /^Checksums-Sha256:/ { sums = inrec; next }
    sums && /^ / { print; next }
    { sums = 0 }' | awk '!seen[$0]++'
}

# Downloads every tarball of a version into $2, trying each pool directory on the main and the
# security archive (the .dsc of some uploads 404s while the tarballs are served).
fetch_version() {
  local version=$1 dir=$2 info dirs name want got ok=0
  info=$(checksums_of "$version")
  [ -n "$info" ] || return 1
  mapfile -t dirs < <(sed -n 's/^DIR //p' <<<"$info")
  mkdir -p "$dir"
  while read -r want _ name; do
    [[ $name == *.tar.* && $name != *.asc ]] || continue
    if [ -f "$dir/$name" ] && [ "$(sha256sum "$dir/$name" | cut -d' ' -f1)" = "$want" ]; then
      continue
    fi
    got=0
    for d in "${dirs[@]}"; do
      for archive in debian debian-security; do
        if curl -sf -o "$dir/$name.part" "$mirror/$archive/$d/$name" &&
           [ "$(sha256sum "$dir/$name.part" | cut -d' ' -f1)" = "$want" ]; then
          mv "$dir/$name.part" "$dir/$name"
          got=1
          break 2
        fi
      done
    done
    rm -f "$dir/$name.part"
    [ $got -eq 1 ] || { echo "cannot download $name of $version" >&2; ok=1; }
  done < <(grep -v '^DIR ' <<<"$info")
  return $ok
}

installed=$(dpkg-query -W -f='${Version}' dovecot-core 2>/dev/null || true)
chosen=
for v in "${versions[@]}"; do
  srcdir=$cache/src/dovecot-$v
  if fetch_version "$v" "$srcdir"; then chosen=$v; break; fi
  echo "source of dovecot $v is not downloadable, trying the next pinned version" >&2
done
[ -n "$chosen" ] || { echo "no pinned dovecot $line source could be downloaded" >&2; return 3; }

older_note=
if [ -n "$installed" ] && [[ ${installed#*:} == ${line}.* ]] &&
   dpkg --compare-versions "$chosen" lt "$installed"; then
  older_note="built from $chosen, OLDER than the installed dovecot-core $installed"
  {
    echo "################################################################################"
    echo "# WARNING: using dovecot $chosen, which is OLDER than the installed $installed"
    echo "# because the installed version's source is not downloadable from $mirror."
    echo "################################################################################"
  } >&2
fi

# Unpacks $srcdir into $1: the upstream tree with debian/ and the component tarballs, Debian's
# patches NOT applied (dpkg-source applies its series itself). Prints the tree's path.
unpack_source() {
  local into=$1 tree component name
  rm -rf "$into"
  mkdir -p "$into"
  tar -xzf "$srcdir"/dovecot_*.orig.tar.gz -C "$into"
  tree=$(find "$into" -mindepth 1 -maxdepth 1 -type d | head -n1)
  tar -xJf "$srcdir"/dovecot_*.debian.tar.xz -C "$tree"
  for component in "$srcdir"/dovecot_*.orig-*.tar.gz; do
    [ -f "$component" ] || continue
    name=${component##*.orig-}
    name=${name%.tar.gz}
    mkdir -p "$tree/$name"
    tar -xzf "$component" -C "$tree/$name" --strip-components=1
  done
  echo "$tree"
}
