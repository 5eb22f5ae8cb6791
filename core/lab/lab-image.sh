#!/usr/bin/env bash
# The root file system every lab node boots from (core/lab): Debian with systemd, OpenSSH,
# Postfix, Dovecot and Syncthing from Debian's packages, set up the way an admin of a small
# virtual-user mail server sets them up. Built once, read-only afterwards: nodes boot from an
# overlay of it.
#
#   lab-image.sh SUITE MIRROR SECURITY_MIRROR TARGET
#
# Builds into TARGET.tmp.PID and renames it to TARGET when complete (TARGET/.mailmesh-complete),
# so an interrupted build never looks finished. The caller (Lab::ensureImage) keys TARGET by this
# script's text and its arguments and holds the cache lock. Progress on stderr.
#
# What is per node or per lab (hostnames, host keys, TLS certificate, passwords, authorized
# keys, machine-id) is written by core/lab into each node's overlay before it boots.
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: $0 SUITE MIRROR SECURITY_MIRROR TARGET" >&2; exit 2; }
suite=$1 mirror=$2 security=$3 target=$4
work=$target.tmp.$$
root=$work
note() { echo "lab-image: [$SECONDS s] $*" >&2; }

cleanup() {
  local mount
  for mount in $(findmnt -rn -o TARGET | grep -F "$work/" | sort -r); do
    umount "$mount" || umount -l "$mount" || true
  done
  if ! findmnt -rn -o TARGET | grep -qF "$work/"; then
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/root "$@"; }

note "debootstrap $suite from $mirror"
mkdir -p "$work"
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2 "$suite" "$root" "$mirror" \
  >"$work.debootstrap.log" 2>&1 || { tail -n 30 "$work.debootstrap.log" >&2; exit 1; }
rm -f "$work.debootstrap.log"

cat >"$root/etc/apt/sources.list" <<EOS
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOS
# Package scripts must not start daemons in the chroot; removed again below, since on the nodes
# systemd and the package scripts restart services as on any Debian server.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"

# Postfix asks debconf: an Internet site for lab.test; main.cf is written below anyway.
in_root debconf-set-selections <<EOS
postfix postfix/main_mailer_type select Internet Site
postfix postfix/mailname string lab.test
EOS
note "packages"
in_root apt-get update -q >"$work.apt.log" 2>&1 \
  && in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
       openssh-server sudo procps ca-certificates less \
       postfix dovecot-core dovecot-imapd dovecot-lmtpd syncthing \
       >>"$work.apt.log" 2>&1 \
  && in_root apt-get clean >>"$work.apt.log" 2>&1 \
  || { tail -n 30 "$work.apt.log" >&2; exit 1; }
rm -f "$work.apt.log"

note "configuration"
# The mail user owns every mailbox (virtual users): the usual layout for Syncthing, which writes
# every file as the user it runs as. Its home is the mail root, as in the common guides.
in_root groupadd --system vmail
in_root useradd --system --gid vmail --home-dir /var/vmail --shell /usr/sbin/nologin vmail
install -d -m 0750 "$root/var/vmail"
in_root chown vmail:vmail /var/vmail
# The admin who logs in where root may not: sudo without a password (keys only, no passwords).
in_root useradd --create-home --shell /bin/bash --groups sudo admin
echo 'admin ALL=(ALL:ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/50-lab-admin"
chmod 0440 "$root/etc/sudoers.d/50-lab-admin"

# sshd: keys only; whether root may log in is decided per node (sshd_config.d/50-lab-login.conf).
cat >"$root/etc/ssh/sshd_config.d/40-lab.conf" <<'EOS'
PasswordAuthentication no
KbdInteractiveAuthentication no
EOS
rm -f "$root"/etc/ssh/ssh_host_*_key "$root"/etc/ssh/ssh_host_*_key.pub

# Postfix: lab.test is a virtual mailbox domain delivered through Dovecot's LMTP (what most
# admins run: Dovecot writes the mail, keeps its indexes current and applies sieve and quota).
cat >"$root/etc/postfix/main.cf" <<'EOS'
# The lab's Postfix: myhostname is the node's (fully qualified) host name.
compatibility_level = 3.6
smtpd_banner = $myhostname ESMTP
biff = no
append_dot_mydomain = no
readme_directory = no
inet_interfaces = all
inet_protocols = ipv4
mydestination = localhost
mynetworks = 127.0.0.0/8 10.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
virtual_mailbox_domains = lab.test
virtual_mailbox_maps = texthash:/etc/postfix/vmailbox
virtual_transport = lmtp:unix:private/dovecot-lmtp
# Node to node mail without DNS (the lab has none); "Local only" would set these to error.
default_transport = smtp
relay_transport = smtp
smtp_dns_support_level = disabled
smtpd_tls_security_level = none
smtp_tls_security_level = none
EOS
cat >"$root/etc/postfix/vmailbox" <<'EOS'
alice@lab.test OK
bob@lab.test OK
EOS

# Dovecot: virtual users from a passwd-file, mail under /var/vmail owned by vmail, TLS on 993
# (the node's certificate is written per lab), LMTP for Postfix.
sed -i 's/^!include auth-system.conf.ext/#!include auth-system.conf.ext/' "$root/etc/dovecot/conf.d/10-auth.conf"
case "$suite" in
  bookworm) # Dovecot 2.3
    cat >"$root/etc/dovecot/conf.d/50-lab.conf" <<'EOS'
# The lab's virtual users: alice@lab.test -> /var/vmail/lab.test/alice/Maildir, as vmail.
passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%u /etc/dovecot/users
}
userdb {
  driver = static
  args = uid=vmail gid=vmail home=/var/vmail/%d/%n
}
mail_location = maildir:~/Maildir
auth_username_format = %Lu
first_valid_uid = 100
service lmtp {
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}
protocol lmtp {
  postmaster_address = postmaster@lab.test
}
EOS
    ;;
  *) # Dovecot 2.4: named passdb/userdb blocks, mail_driver/mail_path, %{...} variables
    cat >"$root/etc/dovecot/conf.d/50-lab.conf" <<'EOS'
# The lab's virtual users: alice@lab.test -> /var/vmail/lab.test/alice/Maildir, as vmail.
passdb passwd-file {
  passwd_file_path = /etc/dovecot/users
}
userdb static {
  fields {
    uid = vmail
    gid = vmail
    home = /var/vmail/%{user | domain}/%{user | username}
  }
}
mail_driver = maildir
mail_home = /var/vmail/%{user | domain}/%{user | username}
mail_path = ~/Maildir
# INBOX is the Maildir itself (Debian's 10-mail.conf points it at an mbox; empty made it .INBOX).
mail_inbox_path = .
first_valid_uid = 100
service lmtp {
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}
protocol lmtp {
  postmaster_address = postmaster@lab.test
  # Debian's 20-lmtp.conf strips the domain (system users); virtual users keep it.
  auth_username_format = %{user | lower}
}
EOS
    ;;
esac
# Dovecot's LMTP socket for Postfix lives in Postfix's queue; trixie's Postfix makes private/ only
# when it first starts, which may be after Dovecot at boot.
install -d -m 0700 "$root/var/spool/postfix/private"
in_root chown postfix /var/spool/postfix/private
# Checked here, not on the first boot: a setting this Dovecot does not know fails the build.
in_root doveconf -n >/dev/null

# The lab has no DNS and no route out: lookups fail at once instead of timing out.
rm -f "$root/etc/resolv.conf" # a link would point at the host's file
printf '# The Mailmesh lab has no DNS: every name is in /etc/hosts.\n' >"$root/etc/resolv.conf"
rm -f "$root/usr/sbin/policy-rc.d"
umount "$root/proc"
rm -f "$root/etc/machine-id" "$root/var/lib/dbus/machine-id"
: >"$root/etc/machine-id"
touch "$root/.mailmesh-complete"
trap - EXIT
mv "$work" "$target"
note "done: $target"
