#!/usr/bin/env bash
# Set up xxgk-archive on a fresh Debian/Ubuntu machine: system packages, a virtualenv in .venv,
# the project installed in editable mode with its dev extras. Idempotent: re-running is cheap.
#
#   ./scripts/setup.sh                 # everything
#   XXGK_SKIP_APT=1 ./scripts/setup.sh # Python only (system packages already there)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libreoffice-writer-nogui libreoffice-calc-nogui   # DOC / WPS / XLS conversion (headless)
  tesseract-ocr tesseract-ocr-chi-sim               # OCR of scanned reports (offline)
  fonts-noto-cjk fonts-wqy-zenhei                   # CJK fonts for generated PDFs and rendering
  poppler-utils                                     # pdftoppm: PDF pages to images
  libgl1 libglib2.0-0                               # OpenCV (OCR table detection) needs them at import
  chromium chromium-driver                          # headless browser tests of the web UI
)

if [ "${XXGK_SKIP_APT:-0}" != "1" ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
    echo "setup: installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"
echo "setup: done (.venv/bin/xxgk is ready)"
