#!/bin/sh
# Cross-checks our HDF5 reader against the real HDF5 library (h5wasm): runs
# `convscope h5dump` and tests/tools/h5wasm_dump.mjs over every HDF5 fixture
# and the corpus .h5 files, and fails on any difference.
#
# Usage: tests/tools/h5_crosscheck.sh [CONVSCOPE_BINARY]
#   (default: build/native/convscope). Needs node and Debian's /usr/bin/python3.
# links.h5 is skipped: it holds a group linked into itself, which h5wasm
# (like h5py) would follow forever; hdf5_test.cpp checks it instead.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
convscope=${1:-$root/build/native/convscope}
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -x "$convscope" ]; then
    echo "h5_crosscheck: no convscope binary at $convscope (build it or pass its path)" >&2
    exit 2
fi

files=""
for f in "$root"/tests/fixtures/hdf5/*.h5; do
    case "$(basename "$f")" in links.h5) continue ;; esac
    files="$files $f"
done
for f in "$root"/../shared/corpus/*.h5; do
    [ -e "$f" ] && files="$files $f"
done
# The weights file inside each corpus .keras archive (unzipped to a temp dir).
for k in "$root"/../shared/corpus/*.keras; do
    [ -e "$k" ] || continue
    dir="$work/$(basename "$k" .keras)"
    mkdir -p "$dir"
    "$python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("model.weights.h5", sys.argv[2])' "$k" "$dir"
    files="$files $dir/model.weights.h5"
done

failed=0
checked=0
for f in $files; do
    checked=$((checked + 1))
    if ! "$convscope" h5dump "$f" > "$work/ours.json" 2> "$work/ours.err"; then
        echo "FAIL $f: convscope h5dump: $(cat "$work/ours.err")"
        failed=$((failed + 1))
        continue
    fi
    if ! node "$root/tests/tools/h5wasm_dump.mjs" "$f" > "$work/theirs.json" 2> "$work/theirs.err"; then
        echo "FAIL $f: h5wasm_dump: $(tail -3 "$work/theirs.err")"
        failed=$((failed + 1))
        continue
    fi
    if result=$("$python" - "$work/theirs.json" "$work/ours.json" <<'PY'
import json, math, sys

def diff(a, b, path):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return None
        scale = max(1.0, abs(a), abs(b))
        return None if abs(a - b) <= 1e-9 * scale else "%s: h5wasm %r, ours %r" % (path, a, b)
    if type(a) is not type(b):
        return "%s: h5wasm %.200r, ours %.200r" % (path, a, b)
    if isinstance(a, dict):
        if set(a) != set(b):
            return "%s: keys %s vs %s" % (path, sorted(a), sorted(b))
        for k in a:
            d = diff(a[k], b[k], path + "." + k)
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d vs %d elements" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: h5wasm %.200r, ours %.200r" % (path, a, b)

theirs = json.load(open(sys.argv[1]))
ours = json.load(open(sys.argv[2]))
d = diff(theirs, ours, "")
print(d or "%d objects" % len(ours["objects"]))
sys.exit(1 if d else 0)
PY
    ); then
        echo "ok   $f ($result)"
    else
        echo "FAIL $f: $result"
        failed=$((failed + 1))
    fi
done
echo "h5_crosscheck: $checked files, $failed differences"
[ "$failed" -eq 0 ]
