#!/usr/bin/env bash
# A throw-away Debian 12 node in a chroot, reachable by ssh on 127.0.0.1, for the tests that
# install packages (tst_ctldeploydovecotpackages). The host's own dpkg state is never touched:
# every apt and dpkg call runs inside the chroot.
#
#   debian-node-chroot.sh up WORK PORT AUTHORIZED_KEY_FILE IMAP_PORT
#       unpacks the cached node base into WORK/root, mounts /proc there, makes a fresh ed25519
#       host key, lets AUTHORIZED_KEY_FILE log in as root and starts the chroot's sshd on
#       127.0.0.1:PORT; Dovecot listens on 127.0.0.1:IMAP_PORT once started. Prints
#       "hostkey SHA256:..." last.
#   debian-node-chroot.sh down WORK
#       stops every process whose root is WORK/root (sshd, sessions, Dovecot, the agent),
#       unmounts and removes WORK.
#
# The node base (cached in ${MAILMESH_CACHE:-/var/cache/mailmesh}/node-chroot-bookworm-KEY.tar.gz)
# is package_deb's bookworm chroot (tests/package/test-deb.sh) when one is cached, else a fresh
# debootstrap minbase, plus openssh-server and Debian's stock dovecot-core and dovecot-imapd.
# policy-rc.d forbids services to start on install, as on a node without systemd: Dovecot is
# started by the node's restart command. Needs root; exits 77 without it or without a mirror.
set -euo pipefail

suite=bookworm
cache=${MAILMESH_CACHE:-/var/cache/mailmesh}
note() { echo "debian-node-chroot: $*" >&2; }
fail() { note "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || { note "skipped: needs root (chroot, mount)"; exit 77; }

host_uri() { # the host's mirror for SUITE (deb822 or one-line sources)
  awk -v suite="$1" '
      /^[Uu][Rr][Ii][Ss]:/ { uris = $2 }
      /^[Ss]uites:/ { for (i = 2; i <= NF; i++) if ($i == suite && uris != "") { print uris; exit } }
      /^deb / { for (i = 3; i <= NF; i++) if ($i == suite) { u = ($2 ~ /^\[/) ? $3 : $2; print u; exit } }
    ' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1 || true # missing files are fine
}

in_root() { local root=$1; shift; chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

# Processes whose root directory is $1: what ran inside the chroot, and only that.
processes_in() {
  local root proc
  root=$(readlink -f "$1")
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && echo "${proc#/proc/}"
  done
  return 0
}

stop_processes() {
  local root=$1 pids i
  pids=$(processes_in "$root")
  [ -z "$pids" ] && return 0
  # shellcheck disable=SC2086 # a list of pids
  kill -TERM $pids 2>/dev/null || true
  for i in $(seq 50); do
    pids=$(processes_in "$root")
    [ -z "$pids" ] && return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  sleep 0.2
}

unmount_under() {
  local mount
  for mount in $(findmnt -rn -o TARGET | grep -F "$1/" | sort -r); do
    umount "$mount" || umount -l "$mount" || true
  done
}

node_base() {
  local mirror security source key base work root
  mirror=$(host_uri "$suite"); mirror=${mirror:-http://deb.debian.org/debian}
  security=$(host_uri "$suite-security"); security=${security:-http://deb.debian.org/debian-security}
  # package_deb's base saves the debootstrap; any of them will do.
  source=$(ls -t "$cache"/chroot-$suite-*.tar.gz 2>/dev/null | head -n 1 || true)
  key=$(printf '%s\n' node-v1 "$suite" "$mirror" "$security" "$(basename "${source:-debootstrap}")" \
    openssh-server dovecot-core dovecot-imapd | sha256sum | cut -c1-16)
  base=$cache/node-chroot-$suite-$key.tar.gz
  if [ -f "$base" ]; then echo "$base"; return; fi
  mkdir -p "$cache"
  work=$(mktemp -d /var/tmp/mailmesh-node-base.XXXXXX)
  root=$work/root
  # shellcheck disable=SC2064 # expand now: the trap must clean this very dir
  trap "unmount_under '$work'; rm -rf --one-file-system '$work'" EXIT
  mkdir "$root"
  if [ -n "$source" ]; then
    note "node base from $source"
    tar -C "$root" --numeric-owner -xzpf "$source"
  else
    command -v debootstrap >/dev/null || { note "skipped: no cached chroot and no debootstrap"; exit 77; }
    note "node base: debootstrap $suite from $mirror"
    debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
      || { tail -n 30 "$work/debootstrap.log" >&2; fail "debootstrap"; }
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
  fi
  cat >"$root/etc/apt/sources.list" <<EOS
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOS
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  mount -t proc proc "$root/proc"
  { in_root "$root" apt-get update -q &&
    in_root "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      openssh-server dovecot-core dovecot-imapd &&
    in_root "$root" apt-get clean; } >"$work/apt.log" 2>&1 \
    || { tail -n 30 "$work/apt.log" >&2; umount "$root/proc"; note "skipped: apt in the chroot failed (no mirror?)"; exit 77; }
  umount "$root/proc"
  rm -f "$root"/etc/ssh/ssh_host_*_key "$root"/etc/ssh/ssh_host_*_key.pub # every node gets its own
  tar -C "$root" --numeric-owner -cf - . | gzip -1 >"$base.tmp.$$"
  mv "$base.tmp.$$" "$base"
  echo "$base"
}

up() {
  local work=$1 port=$2 authorized=$3 imap_port=$4 base root
  base=$(node_base)
  root=$work/root
  mkdir -p "$root"
  tar -C "$root" --numeric-owner -xzpf "$base"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  mount -t proc proc "$root/proc"
  ssh-keygen -q -t ed25519 -N '' -C mailmesh-test-node -f "$root/etc/ssh/ssh_host_ed25519_key"
  install -d -m 700 "$root/root/.ssh"
  install -m 600 "$authorized" "$root/root/.ssh/authorized_keys"
  install -d -m 755 "$root/run/sshd"
  cat >"$root/etc/ssh/sshd_config.mailmesh-test" <<EOS
Port $port
ListenAddress 127.0.0.1
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
PidFile /run/sshd.mailmesh-test.pid
EOS
  # What the admin of a node gives Dovecot: loopback only, the test's port, Maildir.
  cat >"$root/etc/dovecot/conf.d/50-test-node.conf" <<EOS
listen = 127.0.0.1
ssl = no
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
EOS
  # The restart command of a node without systemd: stop the running master, start the one in
  # $MAILMESH_DOVECOT_PREFIX. It fails once, on purpose, when /run/fail-next-restart exists.
  cat >"$root/usr/local/sbin/restart-dovecot" <<'EOS'
#!/bin/sh
if [ -e /run/fail-next-restart ]; then
  rm -f /run/fail-next-restart
  echo "restart-dovecot: failing as the test asked" >&2
  exit 1
fi
pidfile=/run/dovecot/master.pid
if [ -s "$pidfile" ] && pid=$(cat "$pidfile") && kill "$pid" 2>/dev/null; then
  for i in $(seq 100); do
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || break
    [ -z "$state" ] || [ "$state" = Z ] && break
    sleep 0.1
  done
fi
exec "${MAILMESH_DOVECOT_PREFIX:-/usr}/sbin/dovecot" -c "${MAILMESH_DOVECOT_CONFIG:-/etc/dovecot/dovecot.conf}" \
  </dev/null >/dev/null 2>>/var/log/restart-dovecot.log
EOS
  chmod 755 "$root/usr/local/sbin/restart-dovecot"
  install -d -m 755 "$root/srv/mail"
  in_root "$root" /usr/sbin/sshd -f /etc/ssh/sshd_config.mailmesh-test -E /var/log/sshd.mailmesh-test.log \
    || fail "sshd did not start"
  local i
  for i in $(seq 50); do
    [ -s "$root/run/sshd.mailmesh-test.pid" ] && break
    sleep 0.1
  done
  echo "hostkey $(ssh-keygen -lf "$root/etc/ssh/ssh_host_ed25519_key.pub" | awk '{print $2}')"
}

down() {
  local work=$1
  [ -d "$work" ] || return 0
  [ -d "$work/root" ] && stop_processes "$work/root"
  unmount_under "$work"
  if findmnt -rn -o TARGET | grep -qF "$work/"; then
    fail "still mounted under $work, not removing it"
  fi
  rm -rf --one-file-system "$work"
}

case "${1:-}" in
  up) [ $# -eq 5 ] || fail "usage: $0 up WORK PORT AUTHORIZED_KEY_FILE IMAP_PORT"; up "$2" "$3" "$4" "$5" ;;
  down) [ $# -eq 2 ] || fail "usage: $0 down WORK"; down "$2" ;;
  base) node_base ;;
  *) fail "usage: $0 up|down|base ..." ;;
esac
