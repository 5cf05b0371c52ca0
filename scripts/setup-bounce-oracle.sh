#!/bin/sh
# Installs Debian's Sisimai (libsisimai-perl), the bounce analyser the bounce tests use as a
# differential oracle (src/bounces/oracle.test.ts), and the MTAs whose bounces it reads besides
# Postfix. Idempotent; needs root to install.
set -eu

if [ -f /usr/share/perl5/Sisimai.pm ]; then
  echo "sisimai already installed: $(perl -MSisimai -e 'print $Sisimai::VERSION')"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-bounce-oracle.sh must run as root (it installs Debian packages)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends libsisimai-perl
  echo "sisimai installed: $(perl -MSisimai -e 'print $Sisimai::VERSION')"
fi

# Exim from Debian, unpacked into a private prefix: it conflicts as a package with Postfix (both
# are the system MTA), but the oracle only runs it from a private configuration on loopback.
MTA_PREFIX=${FANOUT_MTA_PREFIX:-/opt/fanout-mta}
if [ ! -x "$MTA_PREFIX/exim/usr/sbin/exim4" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "unpacking Exim needs root" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  # Its one library that Postfix's machine lacks, and the user the binary is built to run as.
  apt-get install -y -qq --no-install-recommends libidn12
  id Debian-exim >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin Debian-exim
  work=$(mktemp -d)
  (cd "$work" && chmod 755 . && chown _apt . 2>/dev/null; cd "$work" && apt-get download exim4-daemon-light exim4-base)
  mkdir -p "$MTA_PREFIX/exim"
  for deb in "$work"/*.deb; do dpkg -x "$deb" "$MTA_PREFIX/exim"; done
  rm -rf "$work"
fi
echo "exim unpacked: $("$MTA_PREFIX/exim/usr/sbin/exim4" -bV -C /dev/null 2>/dev/null | head -1 || echo 'cannot run')"

# OpenSMTPD from Debian, unpacked the same way. Its spool (/var/spool/smtpd), chroot
# (/var/lib/opensmtpd/empty) and control socket are built in; it runs as opensmtpd/opensmtpq.
if [ ! -x "$MTA_PREFIX/opensmtpd/usr/sbin/smtpd" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "unpacking OpenSMTPD needs root" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends libevent-2.1-7 libdb5.3
  for u in opensmtpd opensmtpq; do
    id "$u" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /var/lib/opensmtpd/empty --shell /usr/sbin/nologin "$u"
  done
  mkdir -p /var/lib/opensmtpd/empty
  work=$(mktemp -d)
  (cd "$work" && chmod 755 . && chown _apt . 2>/dev/null; cd "$work" && apt-get download opensmtpd)
  mkdir -p "$MTA_PREFIX/opensmtpd"
  for deb in "$work"/*.deb; do dpkg -x "$deb" "$MTA_PREFIX/opensmtpd"; done
  rm -rf "$work"
fi
echo "opensmtpd unpacked: $("$MTA_PREFIX/opensmtpd/usr/sbin/smtpd" -h 2>&1 | head -1)"

# Sendmail from Debian, unpacked the same way, with its m4 macros (sendmail-cf) and m4 to build
# a private sendmail.cf from them.
if [ ! -x "$MTA_PREFIX/sendmail/usr/libexec/sendmail/sendmail" ] || ! command -v m4 >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then echo "unpacking Sendmail needs root" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends m4
  work=$(mktemp -d)
  (cd "$work" && chmod 755 . && chown _apt . 2>/dev/null; cd "$work" && apt-get download sendmail-bin sendmail-cf)
  mkdir -p "$MTA_PREFIX/sendmail"
  for deb in "$work"/*.deb; do dpkg -x "$deb" "$MTA_PREFIX/sendmail"; done
  rm -rf "$work"
fi
echo "sendmail unpacked: $("$MTA_PREFIX/sendmail/usr/libexec/sendmail/sendmail" -d0.1 -bt </dev/null 2>/dev/null | head -1)"
