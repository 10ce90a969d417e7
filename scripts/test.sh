#!/usr/bin/env bash
# The test command: installs what the tests need, starts PostgreSQL on loopback for the
# shared-index tests (scripts/postgres.sh stop stops it), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
DOSSIER_TEST_POSTGRES="$(scripts/postgres.sh start)"
export DOSSIER_TEST_POSTGRES
cargo test --locked "$@"
