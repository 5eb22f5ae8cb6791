#!/usr/bin/env bash
# Builds the Debian package mailmesh_<version>_<arch>.deb:
#
#   installers/package/build-deb.sh [OUTDIR]
#
# Configures a release build of the app, the CLI and the agent (no tests) in
# ${MAILMESH_PACKAGE_BUILD_DIR:-build-package/}, with Debian's hardening flags from
# dpkg-buildflags, builds it and runs `cpack -G DEB`. The .deb lands in OUTDIR (default: the
# build dir) and its path is printed last. Needs the packages of `installers/bootstrap.sh deps`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=${MAILMESH_PACKAGE_BUILD_DIR:-$here/build-package}
outdir=${1:-$build_dir}

# Debian's CPPFLAGS (fortify) go with the C and C++ flags; LDFLAGS add relro and now.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all # adds bindnow to the defaults
flags() { (cd "$here" && dpkg-buildflags --get "$1"); }
CFLAGS="$(flags CPPFLAGS) $(flags CFLAGS)"
CXXFLAGS="$(flags CPPFLAGS) $(flags CXXFLAGS)"
LDFLAGS=$(flags LDFLAGS)
export CFLAGS CXXFLAGS LDFLAGS

cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMAILMESH_BUILD_TESTS=OFF -DMAILMESH_WERROR=ON
cmake --build "$build_dir"
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
(cd "$build_dir" && cpack -G DEB -B "$outdir")
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")
ls "$outdir"/mailmesh_"$version"_*.deb
