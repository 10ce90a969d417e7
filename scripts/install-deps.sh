#!/usr/bin/env bash
# Installs Debian packages dossier needs (only what is missing), in three sets:
#
#   scripts/install-deps.sh --runtime   # what the installed binary needs: Tesseract and models
#   scripts/install-deps.sh --build     # the above, and what building it needs (clang, headers)
#   scripts/install-deps.sh             # (or --test) all of the above, and what the tests drive
#
# A server that runs dossier needs --runtime only (the .deb depends on exactly these:
# libtesseract5, tesseract-ocr-vie, tesseract-ocr-osd, tesseract-ocr-eng). The test-time set (headless Chromium
# for the HTML report, PostgreSQL for the shared-index tests, the scanner-like PDF tools, fonts
# for the sample generator, the Library of Congress BagIt tool from PyPI, Apache PDFBox
# Preflight with a Java runtime for scripts/check-pdfa.sh) never belongs on a server. The
# runtime set also has the Liberation fonts: hayro draws PDF pages in the 14 standard fonts
# with them.
set -euo pipefail
mode=${1:---test}

runtime=(libtesseract5 tesseract-ocr-vie tesseract-ocr-osd tesseract-ocr-eng fonts-liberation2)
build=(build-essential pkg-config clang libclang-dev libtesseract-dev libleptonica-dev)
test=(
  tesseract-ocr tesseract-ocr-eng
  fonts-liberation2 fonts-dejavu-core
  chromium python3 python3-pip
  img2pdf python3-pil qpdf poppler-utils
  libreoffice-calc-nogui
  postgresql
  default-jre-headless libpdfbox2-java libactivation-java libjaxb-api-java
)
case "$mode" in
  --runtime) packages=("${runtime[@]}") ;;
  --build) packages=("${runtime[@]}" "${build[@]}") ;;
  --test) packages=("${runtime[@]}" "${build[@]}" "${test[@]}") ;;
  *) echo "usage: $0 [--runtime|--build|--test]" >&2; exit 2 ;;
esac

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
if [ "$mode" = --test ] && ! python3 -c 'import bagit' 2>/dev/null; then
  echo "installing: bagit (PyPI, test-time only)" >&2
  # Debian's own python3 marks itself externally managed; a pyenv or venv python does not.
  python3 -m pip install --quiet --disable-pip-version-check bagit 2>/dev/null ||
    $sudo python3 -m pip install --quiet --disable-pip-version-check --break-system-packages bagit
fi
