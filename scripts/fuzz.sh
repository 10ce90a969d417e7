#!/usr/bin/env bash
# Fuzzes the register parsers (CSV and xlsx), the pipeline-file parser, the decode + quality
# path and the cover-sheet payload parser, each for SECONDS (default 60), from a random seed,
# or from SEED when given (`scripts/fuzz.sh 20 1`, as CI runs it: a CI run is then
# reproducible, and exploring is left to the longer runs).
# cargo fuzz runs here without a sanitizer (`-s none`): the sanitizers need a nightly
# toolchain; libFuzzer's coverage guidance and panic detection do not.
# Anything found lands in fuzz/artifacts/TARGET/: fix it and add it as a regression test.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
seed_flag=()
[ -n "${2:-}" ] && seed_flag=(-seed="$2")
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in register xlsx_register pipeline_file decode_quality cover_payload; do
  mkdir -p "corpus/$target"
  if ! cargo fuzz run -O -s none "$target" "corpus/$target" -- -max_total_time="$seconds" "${seed_flag[@]}" >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "fuzz target $target failed; a failing input is in fuzz/artifacts/$target" >&2
    exit 1
  fi
  echo "fuzz $target: $(grep -E '^Done' "$log" | tail -1)"
done
