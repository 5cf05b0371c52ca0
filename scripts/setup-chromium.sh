#!/bin/sh
# Debian's Chromium for the console's browser tests (driven by playwright-core), and CJK fonts
# so Chinese screens render (and their screenshots show real characters, not boxes).
set -eu
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
