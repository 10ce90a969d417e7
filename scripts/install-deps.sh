#!/usr/bin/env bash
# Installs the Debian 12 packages dossier builds and runs with (only those missing).
# Tesseract 5.3 C library and models, clang for the bindings, fonts for the sample generator,
# and the tools the tests drive (headless Chromium renders the HTML report).
set -euo pipefail
packages=(
  build-essential pkg-config clang libclang-dev
  libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng tesseract-ocr-osd
  fonts-liberation2 fonts-dejavu-core
  chromium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
