#!/usr/bin/env bash
# Source index benchmark: hud-index over the whole CPython standard library (files/s, MB/s,
# peak RSS), universal-ctags over the same files in the same run, and the re-index time of a
# one-character edit in a ~200 KB file. Run by `scripts/dev.sh bench` with BUILD_DIR set.
# Goals (issue 3): stdlib in <= 1 s on 2 cores and no slower than ctags; edit <= 2 ms.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?BUILD_DIR must point at a release build}
HUD_INDEX=$BUILD_DIR/index/hud-index
EDIT=$BUILD_DIR/bench/index_edit
JOBS=${JOBS:-2}
ROUNDS=${ROUNDS:-3}
STDLIB=${STDLIB:-$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The file set hud-index walks: *.py, no site-packages, no __pycache__, no hidden dirs.
(cd "$STDLIB" && find . -mindepth 1 \( -name '.*' -o -name site-packages -o -name __pycache__ \) -prune \
  -o -name '*.py' -type f -print) | sort >"$TMP/files"
nfiles=$(wc -l <"$TMP/files")
bytes=$(cd "$STDLIB" && tr '\n' '\0' <"$TMP/files" | xargs -0 cat | wc -c)
(cd "$STDLIB" && tr '\n' '\0' <"$TMP/files" | xargs -0 cat >/dev/null) # warm the page cache

best() { sort -n | head -1; }
run_timed() { # label, command... -> prints "seconds peak_rss_kb"
  local out="$TMP/time.$1"
  shift
  /usr/bin/time -f '%e %M %U %S' -o "$out" "$@" >/dev/null 2>"$TMP/stderr" || true
  cat "$out"
}

hud_t=() ctags_t=() hud_cpu=() ctags_cpu=() rss=0
for _ in $(seq "$ROUNDS"); do
  read -r t m u s < <(run_timed hud "$HUD_INDEX" -j "$JOBS" --no-gitignore --root "$STDLIB" "$STDLIB")
  hud_t+=("$t")
  hud_cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')")
  ((m > rss)) && rss=$m
  read -r t _ u s < <(run_timed ctags ctags -R -f "$TMP/tags" --languages=Python \
    --exclude=site-packages --exclude=__pycache__ --exclude='.*' "$STDLIB")
  ctags_t+=("$t")
  ctags_cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')")
done
hud_best=$(printf '%s\n' "${hud_t[@]}" | best)
ctags_best=$(printf '%s\n' "${ctags_t[@]}" | best)
echo "hud-index CPU seconds (user+sys) per run: ${hud_cpu[*]}; ctags: ${ctags_cpu[*]}"
echo "load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows wall times)"
nfuncs=$("$HUD_INDEX" -j "$JOBS" --no-gitignore --root "$STDLIB" "$STDLIB" 2>/dev/null | wc -l)
ntags=$(grep -vc '^!' "$TMP/tags" || true)
# The parse alone, one thread, for the record (where the time goes).
python3 - "$nfiles" "$bytes" "$hud_best" "$ctags_best" "$rss" "$nfuncs" "$ntags" "$JOBS" <<'PY'
import sys
n, b, h, c, rss, nf, nt, j = sys.argv[1:]
n, b, h, c, rss = int(n), int(b), float(h), float(c), int(rss)
print(f"stdlib: {n} files, {b/1e6:.1f} MB")
print(f"hud-index -j{j}: {h:.2f} s, {n/h:.0f} files/s, {b/1e6/h:.1f} MB/s, peak RSS {rss/1024:.0f} MB, {nf} functions")
print(f"ctags -R (universal-ctags, 1 thread): {c:.2f} s, {n/c:.0f} files/s, {b/1e6/c:.1f} MB/s, {nt} tags")
print(f"hud-index / ctags time: {h/c:.2f}x   (goals: <= 1 s, <= 1.0x)")
PY

# One-character edit in the stdlib file nearest to 200 KB.
big=$(cd "$STDLIB" && tr '\n' '\0' <"$TMP/files" | xargs -0 stat -c '%s %n' |
  awk '{d=$1-204800; if (d<0) d=-d; print d, $2}' | sort -n | awk 'NR == 1 { print $2 }')
echo "edit file: $big"
"$EDIT" "$STDLIB/$big" 200
