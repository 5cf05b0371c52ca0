#!/bin/sh
# Installs Debian's Postfix for the delivery tests (a real MTA as destination MX and DSN source).
# Idempotent: does nothing when postfix is already installed. The debconf preseed
# "No configuration" keeps the package from configuring or starting a system-wide mail server;
# tests run their own instance from a private config_directory (src/testing/postfix.ts).
set -eu

if command -v postfix >/dev/null 2>&1 || [ -x /usr/sbin/postfix ]; then
  echo "postfix already installed: $(/usr/sbin/postconf -d mail_version 2>/dev/null || echo unknown)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-postfix.sh must run as root (it installs a Debian package)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
echo 'postfix postfix/mailname string fanout.test' | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends postfix

# The package may still register a service; a private instance must not compete with it.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now postfix >/dev/null 2>&1 || true; fi
/usr/sbin/postfix stop >/dev/null 2>&1 || true

echo "postfix installed: $(/usr/sbin/postconf -d mail_version)"
echo "smtp-source/smtp-sink: $(command -v smtp-source || ls /usr/sbin/smtp-source 2>/dev/null || echo 'not found')"
