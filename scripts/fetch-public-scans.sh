#!/usr/bin/env bash
# Fetches the real public scans of `cargo bench --bench public_scans` (issue #16's held-out
# set) from OCRmyPDF 17.13.0's source distribution on PyPI, checks the tarball's SHA-256 and
# extracts the ten scans the bench reads, and nothing else, into DIR (default
# target/public-scans under the repository). Their sources and licences:
# benches/public-scans/README.md.
#
#   scripts/fetch-public-scans.sh [DIR]
#   OCRMYPDF_SDIST=path/to/ocrmypdf-17.13.0.tar.gz scripts/fetch-public-scans.sh [DIR]
#
# Running it again does nothing once every file is there with its expected hash.
set -euo pipefail

VERSION=17.13.0
SDIST_SHA256=151c35d810eb628fbc5cb9bbe80b834ecf094737efa0e7a2e9e1fac3c730ed49
# Each scan's SHA-256 inside that tarball: a file edited or cut short since is fetched again.
SCANS=(
  "linn.png dcd90f08a6b8a733612f818330153636c13283dd548e2e092cad1fe628ec7bf3"
  "skew.pdf 6be6b54d49df71351974774404e299b756d8d3cbeb2c4a31f15fae8dd983d72f"
  "rotated_skew.pdf 5122c07d05a61219eb9f8305776ef16def6b34c29358e05c5ae2e884a351438f"
  "cardinal.pdf ebd7b2233aea5f320562df9635901bbd8e734cb42c85defa1059163d4b1d6ccb"
  "ccitt.pdf 5f4b129bf0eb0d32358a917cd1754c6fd68cac589ad79076b6d0191ebe84f0f1"
  "jbig2.pdf 210b845b62eab7118bc1e6076a3235a37eb947218254198c6102d06422f35037"
  "c03-29.pdf c2ff83af7d028c95209cc7eebdf80fd5bb4cd292973ed6601e4bab7d1929f201"
  "typewriter.png 6f7a83685a83af954e9672b3e2db3253af165513d2826d780a48e175742f4469"
  "2400dpi.pdf 98cf83efd35673301dbfcbfa900e42a31f8ea90cb16ffd9b8be2aa28394ef142"
  "epson.pdf 3fce2d6e5baffec839ffc86b7c91903b139399392ea76a09bdfcca40cb8b5a4d"
)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/target/public-scans}"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# The scans missing or not as published.
missing=()
for entry in "${SCANS[@]}"; do
  read -r name sum <<<"$entry"
  if [ ! -f "$dir/$name" ] || [ "$(sha256_of "$dir/$name")" != "$sum" ]; then
    missing+=("$name")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "all ${#SCANS[@]} public scans already in $dir (hashes checked)"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

sdist="${OCRMYPDF_SDIST:-}"
if [ -n "$sdist" ]; then
  if [ ! -f "$sdist" ]; then
    echo "OCRMYPDF_SDIST=$sdist: no such file" >&2
    exit 1
  fi
  echo "using $sdist"
else
  if python3 -m pip --version >/dev/null 2>&1; then
    pip=(python3 -m pip)
  elif command -v pip >/dev/null; then
    pip=(pip)
  else
    echo "pip is needed to download ocrmypdf==$VERSION from PyPI (Debian: apt install python3-pip)," >&2
    echo "or give a downloaded tarball: OCRMYPDF_SDIST=path/to/ocrmypdf-$VERSION.tar.gz $0 $*" >&2
    exit 1
  fi
  echo "downloading ocrmypdf==$VERSION's source distribution from PyPI"
  # The source distribution, not a wheel: only it carries tests/resources.
  if ! "${pip[@]}" download "ocrmypdf==$VERSION" --no-deps --no-binary :all: \
    --dest "$work" --quiet; then
    echo "pip could not download ocrmypdf==$VERSION (offline? a proxy?);" >&2
    echo "give a downloaded tarball instead: OCRMYPDF_SDIST=path/to/ocrmypdf-$VERSION.tar.gz $0 $*" >&2
    exit 1
  fi
  sdist="$work/ocrmypdf-$VERSION.tar.gz"
  if [ ! -f "$sdist" ]; then
    echo "pip downloaded something other than ocrmypdf-$VERSION.tar.gz:" >&2
    ls "$work" >&2
    exit 1
  fi
fi

got="$(sha256_of "$sdist")"
if [ "$got" != "$SDIST_SHA256" ]; then
  echo "$sdist: SHA-256 $got, expected $SDIST_SHA256 (ocrmypdf $VERSION as published on PyPI); nothing extracted" >&2
  exit 1
fi

members=()
for name in "${missing[@]}"; do
  members+=("ocrmypdf-$VERSION/tests/resources/$name")
done
tar -xzf "$sdist" -C "$work" "${members[@]}"
mkdir -p "$dir"
for entry in "${SCANS[@]}"; do
  read -r name sum <<<"$entry"
  from="$work/ocrmypdf-$VERSION/tests/resources/$name"
  [ -f "$from" ] || continue
  if [ "$(sha256_of "$from")" != "$sum" ]; then
    echo "$name in the tarball has an unexpected SHA-256; not installed" >&2
    exit 1
  fi
  # Through a temporary name in the same folder: an interrupted copy never passes for a scan.
  cp "$from" "$dir/.$name.part"
  mv "$dir/.$name.part" "$dir/$name"
  echo "  $dir/$name"
done
echo "${#missing[@]} of ${#SCANS[@]} public scans extracted into $dir"
