#!/usr/bin/env bash
# One idempotent set-up for `npm start`, `npm test` and `npm run bench`: installs what is missing
# and rebuilds what changed, and does nothing else (a second run takes about a second).
#   1. Debian packages with apt-get when root: every one the build and the tests call, since under
#      CI a test fails rather than skips when a tool is missing (test/helpers/ci.ts):
#      g++, make, python3 (node-gyp builds the addon), ffmpeg (ffmpeg and ffprobe), libav*-dev,
#      libsrt-gnutls-dev (the addon's SRT listener links the GnuTLS flavour of libsrt, the one
#      Debian's libavformat loads, so one libsrt is in the process),
#      pkg-config, chromium (the e2e players), postgresql (of it only the binaries are used: the
#      tests start throwaway servers of their own, test/helpers/postgres.ts; the package's default
#      cluster is left as it is), openssl (scripts/playback-token.sh and the shell line of
#      docs/webhooks.md, both run by tests), prometheus (promtool checks /metrics, and the
#      metrics test starts a throwaway Prometheus server that scrapes the origin; the package's
#      own service is not started), nginx-light (test/integration/viewer-beacons.test.ts puts it
#      in front of the origin as a caching reverse proxy, a CDN stand-in; it runs on its own
#      temporary config and prefix, the package's default site is left as it is), libnginx-mod-rtmp
#      (test/integration/restream.test.ts pushes a channel to an nginx-rtmp of its own, a
#      broadcaster's relay server; the module is loaded only by that test's config);
#   2. npm ci when package-lock.json changed since the last install;
#   3. the native addon (node-gyp, offline against Debian's Node headers) when native/ changed;
#   4. the TypeScript build when any .ts file changed.
# Flags: --bench also installs nghttp2-client (h2load, the delivery benchmark's HTTP/2 load
# generator; its yardstick, nginx, is in the base list). --test (npm test) also installs Ceph's
# RADOS Gateway packages (ceph-mon ceph-osd ceph-mgr radosgw ceph-common, about 290 MB): the
# object-store tests start a throwaway S3 server with scripts/s3/start-rgw.sh, which
# installs them itself when missing; installing them here keeps that out of the timed tests.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[bootstrap] %s\n' "$*" >&2; }

packages=(g++ make python3 ffmpeg libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libswscale-dev pkg-config chromium postgresql openssl prometheus nginx-light libnginx-mod-rtmp libsrt-gnutls-dev)
[[ " $* " == *" --bench "* ]] && packages+=(nghttp2-client)
[[ " $* " == *" --test "* || " $* " == *" --bench "* ]] && packages+=(ceph-mon ceph-osd ceph-mgr radosgw ceph-common)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -eq 0 ]]; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing Debian packages: ${missing[*]}"
    say "install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
fi

# A stamp records the hash of the inputs of each step; the step runs again only when it differs.
stamp_dir=node_modules/.sigma-bootstrap
hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }
fresh() { [[ -f "$stamp_dir/$1" && "$(cat "$stamp_dir/$1")" == "$2" ]]; }
mark() { mkdir -p "$stamp_dir"; printf '%s' "$2" > "$stamp_dir/$1"; }

lock_hash=$(hash_of package-lock.json)
if ! fresh npm "$lock_hash" || [[ ! -d node_modules ]]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  mark npm "$lock_hash"
fi

native_hash=$(hash_of binding.gyp $(find native -type f | sort))
if ! fresh native "$native_hash" || [[ ! -f build/Release/sigma_native.node ]]; then
  say "building the native addon (node-gyp)"
  npx --no-install node-gyp rebuild --loglevel=warn >/dev/null
  mark native "$native_hash"
fi

ts_hash=$(hash_of tsconfig.json $(find src test bench -name '*.ts' -o -name '*.tsx' -o -name '*.json' -path 'src/console/*' -o -path 'src/console/static/*' | sort))
if ! fresh ts "$ts_hash" || [[ ! -f dist/src/main.js ]]; then
  say "building TypeScript"
  # Into a fresh folder, then swapped in: no stale output of deleted files survives (tap would
  # still run a deleted test), and processes running from dist/ never see it half-written.
  rm -rf dist.next
  npx --no-install tsc -p tsconfig.json --outDir dist.next
  # The operator console: browser modules (its own tsconfig: DOM, Preact's JSX) and its static files.
  npx --no-install tsc -p src/console/tsconfig.json --outDir dist.next/console
  cp -r src/console/static/. dist.next/console/
  rm -rf dist.old; [[ -d dist ]] && mv dist dist.old
  mv dist.next dist
  rm -rf dist.old
  mark ts "$ts_hash"
fi
