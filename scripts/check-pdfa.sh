#!/usr/bin/env bash
# Checks a searchable PDF offline with Apache PDFBox Preflight (Debian's libpdfbox2-java; no
# veraPDF package exists for Debian 12). Preflight validates PDF/A-1b, which asks at least as
# much as PDF/A-2b of everything these files hold (embedded fonts, ICC output intent, XMP,
# file ID, no transparency, no encryption; its ICC profiles must even be v2). So the file is
# checked as it is but for its XMP claim, copied with `pdfaid:part` 2 read as 1 (one byte, same
# length, so the offsets hold). Prints Preflight's verdict; exit 0 when valid.
# Usage: scripts/check-pdfa.sh FILE.pdf
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 FILE.pdf" >&2; exit 2; }
j=/usr/share/java
cp="$j/preflight.jar:$j/pdfbox2.jar:$j/fontbox2.jar:$j/xmpbox.jar:$j/commons-logging.jar"
cp="$cp:$j/javax.activation.jar:$j/jaxb-api.jar"
for jar in ${cp//:/ }; do
  [ -f "$jar" ] || { echo "$jar missing: run scripts/install-deps.sh" >&2; exit 1; }
done
copy="$(mktemp --suffix=.pdf)"
trap 'rm -f "$copy"' EXIT
grep -c --binary-files=text '<pdfaid:part>2</pdfaid:part>' "$1" >/dev/null ||
  { echo "$1: no PDF/A-2 identification in its XMP" >&2; exit 1; }
sed 's|<pdfaid:part>2</pdfaid:part>|<pdfaid:part>1</pdfaid:part>|' "$1" >"$copy"
out="$(java -cp "$cp" org.apache.pdfbox.preflight.Validator_A1b "$copy" 2>&1)" || true
echo "${out//$copy/$1}"
case "$out" in
  *"is a valid PDF/A-1b file"*) exit 0 ;;
  *) exit 1 ;;
esac
