#!/usr/bin/env bash
# Mints a playback token (an HS256 JWT, docs/playback-tokens.md) with openssl alone, as a
# platform back end would in any language:
#   SIGMA_PLAYBACK_SECRET='<playback.tokenSecret>' scripts/playback-token.sh <channel> <lifetime-seconds> [preview]
# The secret is the configured playback.tokenSecret, used as its UTF-8 bytes.
set -euo pipefail
if (($# < 2)) || ! [[ $1 =~ ^[a-z0-9_-]+$ && $2 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: SIGMA_PLAYBACK_SECRET=… $0 <channel> <lifetime-seconds> [preview]" >&2
  exit 2
fi
: "${SIGMA_PLAYBACK_SECRET:?set SIGMA_PLAYBACK_SECRET to the configured playback.tokenSecret}"
channel=$1 lifetime=$2 preview=${3:-}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

now=$(date +%s)
claims=$(printf '{"sub":"%s","iat":%d,"exp":%d' "$channel" "$now" $((now + lifetime)))
[[ $preview == preview ]] && claims+=',"prv":true'
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload=$(printf '%s}' "$claims" | b64url)
signature=$(printf '%s.%s' "$header" "$payload" \
  | openssl dgst -sha256 -mac HMAC -macopt "key:$SIGMA_PLAYBACK_SECRET" -binary | b64url)
printf '%s.%s.%s\n' "$header" "$payload" "$signature"
