#!/bin/sh
# Installs what the operations reports need from Debian: fonts-noto-cjk (the CJK font the PDF
# reports embed, so Chinese renders on a clean machine) and poppler-utils (pdftotext, with which
# the tests read the PDFs back). Idempotent: does nothing when both are there.
set -eu

if [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] && command -v pdftotext >/dev/null 2>&1; then
  echo "report tools already installed: Noto Sans CJK, $(pdftotext -v 2>&1 | head -1)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-report-tools.sh must run as root (it installs Debian packages)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends fonts-noto-cjk poppler-utils
echo "report tools installed: Noto Sans CJK, $(pdftotext -v 2>&1 | head -1)"
