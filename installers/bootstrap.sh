#!/usr/bin/env bash
# The README's two commands:
#   installers/bootstrap.sh demo   build Mailmesh and open it on a local 3-node demo cluster
#   installers/bootstrap.sh test   build Mailmesh and run every default test
# Both install their Debian packages when missing (apt-get, as root or through sudo), build
# out of tree with Ninja, are safe to run again, and never start or enable a system service.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${MAILMESH_BUILD_DIR:-$here/build}
build_type=${MAILMESH_BUILD_TYPE:-RelWithDebInfo}
extra_cmake_args=()

packages=(
  build-essential cmake ninja-build pkg-config file
  qt6-base-dev qt6-base-dev-tools qt6-l10n-tools qt6-svg-dev libqt6svg6 qt6-qpa-plugins libgl-dev
  nlohmann-json3-dev libexpected-dev
  openssh-client openssh-server syncthing dovecot-core dovecot-imapd
  clang-14 libclang-rt-14-dev
  procps psmisc strace
  librsvg2-bin desktop-file-utils appstream debootstrap
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "bootstrap: installing ${missing[*]}" >&2
  # openssh-server and dovecot start their daemons from postinst through invoke-rc.d. A
  # policy-rc.d that answers 101 ("action forbidden") keeps ports 22 and 143 closed: Mailmesh
  # only needs the binaries. We remove the policy again only if we created it.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    created_policy=1
  fi
  trap '[ $created_policy -eq 1 ] && as_root rm -f '"$policy" RETURN
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

configure_and_build() { # configure_and_build TARGET [CMAKE ARGUMENTS...]
  local target=$1
  shift
  cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "${extra_cmake_args[@]}" "$@"
  cmake --build "$build_dir" --target "$target"
}

case "${1:-}" in
  deps)
    install_packages
    ;;
  demo)
    install_packages
    # The demo's nodes run our cur/-only Dovecot (so that its migration can be tried). On a fresh
    # machine it builds once (about 20 minutes on 2 cores, niced) beside Mailmesh's build and is
    # cached for every later demo and test run; an existing MAILMESH_DOVECOT_PREFIX is used as is.
    prefix_pid=
    if [ -z "${MAILMESH_DOVECOT_PREFIX:-}" ] &&
       ! MAILMESH_DOVECOT_PREFIX=$("$here/installers/dovecot/build-prefix.sh" --if-built 2.3); then
      echo "bootstrap: building the cur/-only Dovecot once (about 20 minutes on 2 cores; cached for next time)" >&2
      prefix_file=$(mktemp)
      trap 'rm -f "$prefix_file"' EXIT
      "$here/installers/dovecot/build-prefix.sh" 2.3 > "$prefix_file" &
      prefix_pid=$!
    fi
    configure_and_build mailmesh # the agent it deploys is built with it
    if [ -n "$prefix_pid" ]; then
      started=$SECONDS
      while kill -0 "$prefix_pid" 2>/dev/null; do
        echo "bootstrap: Mailmesh is built; the cur/-only Dovecot is still building ($(( (SECONDS - started) / 60 )) min of waiting so far)" >&2
        for _ in $(seq 60); do kill -0 "$prefix_pid" 2>/dev/null && sleep 1; done
      done
      if wait "$prefix_pid"; then
        MAILMESH_DOVECOT_PREFIX=$(cat "$prefix_file")
      else
        echo "bootstrap: the cur/-only Dovecot did not build (see above); the demo runs the stock Dovecot" >&2
        MAILMESH_DOVECOT_PREFIX=
      fi
      rm -f "$prefix_file" # exec below skips the EXIT trap
    fi
    export MAILMESH_DOVECOT_PREFIX
    exec "$build_dir/app/mailmesh/mailmesh" --demo
    ;;
  test)
    install_packages
    # Two at a time: the tests with real daemons hold the "sandbox" lock and still run one by
    # one; unit, fuzz and package tests fill the other slot.
    run_tests() { ctest --output-on-failure --timeout 900 -j2 "$@"; }
    # Line tables only: crash backtraces keep file and line, and the build is ~13% shorter.
    [ "$build_type" != RelWithDebInfo ] ||
      extra_cmake_args+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
                         "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
    : "${MAILMESH_DOVECOT_PREFIX:=$("$here/installers/dovecot/build-prefix.sh" --if-built 2.3 || true)}"
    if [ -n "$MAILMESH_DOVECOT_PREFIX" ]; then
      export MAILMESH_DOVECOT_PREFIX
      configure_and_build all -DMAILMESH_WERROR=ON -DMAILMESH_DOVECOT_PREFIX="$MAILMESH_DOVECOT_PREFIX"
      cd "$build_dir"
      run_tests -LE 'bench|slow'
      exit
    fi
    # On a fresh machine the patched Dovecot takes about as long to build as Mailmesh: it builds
    # (niced) beside Mailmesh and then beside the tests that do not need it, which mostly wait on
    # their daemons. The tests labelled "dovecot" have its prefix compiled in: they are built
    # and run once it is there.
    prefix_file=$(mktemp)
    trap 'rm -f "$prefix_file"' EXIT
    "$here/installers/dovecot/build-prefix.sh" 2.3 > "$prefix_file" &
    prefix_pid=$!
    configure_and_build all -DMAILMESH_WERROR=ON -DMAILMESH_DOVECOT_PREFIX=
    # The compiling tests (fuzz builds its own clang tree, package builds a .deb) wait for the
    # second round, where the Dovecot tests run one by one and leave the other slot free.
    failed=0
    (cd "$build_dir" && run_tests -LE 'bench|slow|dovecot|fuzz|package') || failed=1
    wait "$prefix_pid" || { echo "bootstrap: the patched Dovecot did not build (see above)" >&2; exit 3; }
    MAILMESH_DOVECOT_PREFIX=$(cat "$prefix_file"); export MAILMESH_DOVECOT_PREFIX
    configure_and_build all -DMAILMESH_DOVECOT_PREFIX="$MAILMESH_DOVECOT_PREFIX"
    (cd "$build_dir" && run_tests -L 'dovecot|fuzz|package' -LE 'bench|slow') || failed=1
    exit "$failed"
    ;;
  *)
    echo "usage: $0 demo|test|deps" >&2
    exit 2
    ;;
esac
