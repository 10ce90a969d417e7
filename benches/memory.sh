#!/usr/bin/env bash
# Peak RSS of `dossier run --jobs 2` as the intake grows.
#
#   benches/memory.sh [DOSSIERS] [COPIES] [PAGE_HEIGHT_MM]     # defaults: 300 20 297
#
# Generates DOSSIERS sample dossiers (about 1.75 pages each) at 300 dpi, copies the intake
# COPIES times under new dossier codes (so every copy is a new document to OCR), runs the
# batch, and prints every 15 s the pages committed and the process's RSS, then the peak RSS
# (/usr/bin/time) and the wall time. The bar (issue #5): under 1 GiB, not growing with the
# intake. 300 × 20 at 297 mm is about 10,500 A4 pages (about 70 minutes on 2 cores).
set -euo pipefail
dossiers="${1:-300}"
copies="${2:-20}"
height="${3:-297}"
cd "$(dirname "$0")/.."
cargo build --release --locked -q
dossier="$PWD/target/release/dossier"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$dossier" sample --output "$work/gen" --dossiers "$dossiers" --page-height-mm "$height"
mkdir -p "$work/intake"
python3 - "$work/gen/intake" "$work/intake" "$copies" <<'PY'
import os, shutil, sys
src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Layout {procedure}/{dossier}/{kind}: copy k moves each dossier's sequence number past every
# number the generator used, so that every copy is a new, valid dossier code.
entries = [(p, d) for p in os.listdir(src) for d in os.listdir(os.path.join(src, p))]
top = max(int(d.rsplit("-", 1)[1]) for _, d in entries)
if top * copies > 9999:
    sys.exit(f"{copies} copies of sequence numbers up to {top} do not fit in 4 digits")
for procedure, dossier in entries:
    head, seq = dossier.rsplit("-", 1)
    for k in range(copies):
        shutil.copytree(os.path.join(src, procedure, dossier),
                        os.path.join(dst, procedure, f"{head}-{int(seq) + k * top:04d}"))
PY
pages=$(find "$work/intake" -type f | wc -l)
printf '[pipeline]\nname = "memory"\nintake = "intake"\narchive = "archive"\njobs = 2\n\n[intake]\nsettle_seconds = 0\n' >"$work/memory.toml"
echo "$pages files in the intake (${height} mm pages, 300 dpi)"
/usr/bin/time -f '%e s wall, peak RSS %M KB' -o "$work/time.txt" "$dossier" run --quiet "$work/memory.toml" &
runner=$!
sleep 2
pid="$(pgrep -n -f "$dossier run --quiet $work/memory.toml" || true)"
while kill -0 "$runner" 2>/dev/null; do
  rss="$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)"
  done_pages="$(python3 -c "import sqlite3,sys
try:
    c = sqlite3.connect('file:$work/archive/index.sqlite?mode=ro', uri=True, timeout=1)
    print(c.execute('select count(*) from pages').fetchone()[0])
except Exception:
    print('?')")"
  echo "$(date +%T) pages committed: $done_pages, RSS $((rss / 1024)) MiB"
  sleep 15
done
wait "$runner" || true
cat "$work/time.txt"
