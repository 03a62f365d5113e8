#!/usr/bin/env bash
# Runs the native addon's tests under valgrind memcheck and fails on errors in OUR code:
# definite/indirect leaks whose allocation stack passes through sigma_native.node (native/),
# and invalid reads/writes/frees, uninitialised-value use or overlaps with one of our frames.
# Node and V8 have plenty of "possibly lost"/JIT noise of their own; those reports have no
# sigma_native frame and are ignored (counted, not fatal).
#
# Usage: scripts/valgrind-addon.sh [test files...]   (default: dist/test/unit/addon/*.test.js)
# Needs: valgrind, a built addon (npx node-gyp rebuild) and compiled tests (npx tsc -p tsconfig.json).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }
[ -f build/Release/sigma_native.node ] || { echo "build/Release/sigma_native.node missing: run npx node-gyp rebuild" >&2; exit 2; }

files=("$@")
if [ ${#files[@]} -eq 0 ]; then files=(dist/test/unit/addon/*.test.js); fi
[ -e "${files[0]}" ] || { echo "no compiled addon tests: run npx tsc -p tsconfig.json" >&2; exit 2; }

out=$(mktemp -d /tmp/sigma-valgrind.XXXXXX)
echo "valgrind logs in $out"
status=0
for f in "${files[@]}"; do
  name=$(basename "$f" .js)
  echo "== $f"
  # Child node processes (lifecycle tests) are traced too; ffmpeg (fixture generation) is not.
  set +e
  SIGMA_SLOW_FACTOR=${SIGMA_SLOW_FACTOR:-40} TAP_TIMEOUT=0 \
    valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
      --errors-for-leak-kinds=definite,indirect --num-callers=40 \
      --trace-children=yes --trace-children-skip='*ffmpeg*,*/sh,*/bash' --child-silent-after-fork=yes \
      --xml=yes --xml-file="$out/$name.%p.xml" --log-file="$out/$name.%p.log" \
      node "$f" > "$out/$name.tap" 2>&1
  rc=$?
  set -e
  pass=$(grep -cE '^ *ok ' "$out/$name.tap" || true)
  fail=$(grep -cE '^ *not ok ' "$out/$name.tap" || true)
  echo "   test exit $rc, asserts ok $pass, not ok $fail"
  if [ "$rc" -ne 0 ] || [ "$fail" -ne 0 ]; then
    grep -E '^ *not ok ' "$out/$name.tap" | head -20 || true
    status=1
  fi
done

python3 - "$out" <<'PY' || status=1
import glob, sys, xml.etree.ElementTree as ET
out = sys.argv[1]
ours_total, other_total, procs = 0, 0, 0
def ours(frame):
    obj = frame.findtext('obj') or ''
    d = frame.findtext('dir') or ''
    return 'sigma_native' in obj or '/native' in d
for path in sorted(glob.glob(out + '/*.xml')):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        print(f'   {path}: unreadable xml ({e})'); ours_total += 1; continue
    procs += 1
    for err in root.iter('error'):
        kind = err.findtext('kind')
        if kind.startswith('Leak_') and kind not in ('Leak_DefinitelyLost', 'Leak_IndirectlyLost'):
            continue
        frames = [f for st in err.iter('stack') for f in st.iter('frame')]
        if any(ours(f) for f in frames):
            ours_total += 1
            what = err.findtext('xwhat/text') or err.findtext('what') or ''
            print(f'   OURS {kind}: {what}')
            for f in frames[:12]:
                print(f"      {f.findtext('fn') or '?'} ({f.findtext('file') or f.findtext('obj') or ''}:{f.findtext('line') or ''})")
        else:
            other_total += 1
print(f'valgrind: {procs} processes, {ours_total} error(s) in sigma_native, {other_total} outside it (node/V8/libc, ignored)')
sys.exit(1 if ours_total else 0)
PY
exit $status
