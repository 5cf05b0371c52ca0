#!/bin/sh
# Installs Debian's Sisimai (libsisimai-perl), the bounce analyser the bounce tests use as a
# differential oracle (src/bounces/oracle.test.ts). Idempotent; needs root to install.
set -eu

if [ -f /usr/share/perl5/Sisimai.pm ]; then
  echo "sisimai already installed: $(perl -MSisimai -e 'print $Sisimai::VERSION')"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-bounce-oracle.sh must run as root (it installs a Debian package)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends libsisimai-perl
echo "sisimai installed: $(perl -MSisimai -e 'print $Sisimai::VERSION')"
