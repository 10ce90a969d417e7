#!/usr/bin/env bash
# Builds the Debian package: target/debian/dossier_<version>_<arch>.deb (packaging/README.md).
#
#   scripts/build-deb.sh            # release build, man pages, completions, then the .deb
#                                   # (and the -dbgsym .ddeb of its debug symbols)
#
# Needs the build dependencies (scripts/install-deps.sh --build) and cargo-deb, which is
# installed from crates.io when missing. Honours CARGO_TARGET_DIR; the .deb is always written
# to target/debian/ under the repository. Set DOSSIER_GIT_COMMIT to name the commit when
# building from a tarball without .git.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}

if ! command -v cargo-deb >/dev/null 2>&1; then
  echo "installing cargo-deb (crates.io)" >&2
  cargo install cargo-deb --locked
fi

cargo build --release --locked
bin=$target/release/dossier

# Man pages and completions from the binary's own clap definitions.
generated=$root/packaging/generated
rm -rf "$generated"
"$bin" generate man "$generated/man"
gzip -9n "$generated"/man/*.1
"$bin" generate completions "$generated/completions"
# Keep a Changelog is shipped as it is; a missing one is a packaging error.
[ -f CHANGELOG.md ] || { echo "CHANGELOG.md is missing" >&2; exit 1; }

mkdir -p "$root/target/debian"
# cargo-deb names the .deb and, with dbgsym (Cargo.toml), the -dbgsym .ddeb of the debug
# symbols: the .deb is the last line, as scripts/check-deb.sh reads it.
out=$(cargo deb --no-build --locked --output "$root/target/debian/")
echo "$out" | grep '\.ddeb$' || true
echo "$out" | grep '\.deb$' | tail -n 1
