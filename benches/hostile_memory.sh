#!/usr/bin/env bash
# Peak RSS of `dossier run` on hostile input, for several --jobs (issue "Hostile input, round 2").
#
#   benches/hostile_memory.sh [FILES] [JOBS...]      # defaults: 16 files; jobs 1 2 2000
#
# Writes FILES JPEGs of 334 bytes whose headers claim 10000×10000 pixels (each under the
# per-image limit of 100 Mpx, together far over), one per dossier, and runs the batch on them
# with each --jobs, printing the peak RSS (/usr/bin/time) and the wall time. The bar: under
# 1 GiB whatever the intake and --jobs (jobs are capped to the cores, pages are admitted to
# OCR only under the memory limit; see src/pipeline/admission.rs).
set -euo pipefail
files="${1:-16}"
shift || true
jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(1 2 2000)
cd "$(dirname "$0")/.."
cargo build --release --locked -q
dossier="$PWD/target/release/dossier"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work/intake" "$files" <<'PY'
import io, os, sys
from PIL import Image
out, n = sys.argv[1], int(sys.argv[2])
buf = io.BytesIO()
Image.new("L", (16, 16), 200).save(buf, "JPEG", quality=50)
data = bytearray(buf.getvalue())
sof = data.find(b"\xff\xc0")
data[sof + 5:sof + 7] = (10000).to_bytes(2, "big")   # height
data[sof + 7:sof + 9] = (10000).to_bytes(2, "big")   # width
for k in range(n):
    folder = os.path.join(out, "1.001193", f"000.00.01.H50-240115-{k + 1:04d}", "input")
    os.makedirs(folder)
    with open(os.path.join(folder, "bomb.jpg"), "wb") as f:
        f.write(data)
PY
cat >"$work/p.toml" <<'TOML'
[pipeline]
name = "hostile-memory"
intake = "intake"
archive = "archive"
[intake]
settle_seconds = 0
TOML
echo "$files JPEGs of $(stat -c %s "$(find "$work/intake" -name bomb.jpg | head -1)") bytes claiming 10000x10000 pixels; $(nproc) cores"
for j in "${jobs[@]}"; do
  rm -rf "$work/archive"
  /usr/bin/time -f "%M %e" -o "$work/time" "$dossier" run "$work/p.toml" --jobs "$j" --quiet >/dev/null 2>"$work/err" || true
  read -r kb seconds <"$work/time"
  echo "--jobs $j: peak RSS $((kb / 1024)) MiB, $seconds s$(grep -o 'capped to [0-9]*' "$work/err" | sed 's/^/ (/;s/$/)/')"
done
