#!/usr/bin/env bash
# Installs what dossier builds and runs with, and what its tests drive (only what is missing):
# Tesseract 5.3 C library and models, clang for the bindings, fonts for the sample generator,
# headless Chromium (renders the HTML report), the scanner-like PDFs the tests make and read
# (img2pdf with Pillow, qpdf, poppler's pdftotext), PostgreSQL for the shared-index tests,
# the Library of Congress BagIt tool (PyPI), and Apache PDFBox Preflight with a Java runtime
# (scripts/check-pdfa.sh, the searchable PDF's PDF/A check).
set -euo pipefail
packages=(
  build-essential pkg-config clang libclang-dev
  libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng tesseract-ocr-osd
  fonts-liberation2 fonts-dejavu-core
  chromium python3 python3-pip
  img2pdf python3-pil qpdf poppler-utils
  postgresql
  default-jre-headless libpdfbox2-java libactivation-java libjaxb-api-java
)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! python3 -c 'import bagit' 2>/dev/null; then
  echo "installing: bagit (PyPI)" >&2
  # Debian's own python3 marks itself externally managed; a pyenv or venv python does not.
  python3 -m pip install --quiet --disable-pip-version-check bagit 2>/dev/null ||
    $sudo python3 -m pip install --quiet --disable-pip-version-check --break-system-packages bagit
fi
