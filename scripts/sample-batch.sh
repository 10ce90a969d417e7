#!/usr/bin/env bash
# The sample nightly batch, end to end: installs what is missing, builds, runs
# pipelines/sample.toml into a fresh ./archive, then shows what was archived.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build   # building and running; the tests need --test
cargo build --release --locked
dossier=${CARGO_TARGET_DIR:-target}/release/dossier
rm -rf archive
status=0
"$dossier" run pipelines/sample.toml || status=$?
echo
echo "== dossier show --archive archive 000.00.03.H50-240115-0001"
"$dossier" show --archive archive 000.00.03.H50-240115-0001
echo
echo "== dossier search --archive archive 'dang ky khai sinh'"
"$dossier" search --archive archive 'dang ky khai sinh' --limit 5
echo
echo "== dossier report --archive archive (coverage against samples/register.csv)"
"$dossier" report --archive archive --pipeline pipelines/sample.toml
echo
echo "== dossier run pipelines/sample.toml (again: nothing new to do)"
"$dossier" run pipelines/sample.toml
exit "$status"
