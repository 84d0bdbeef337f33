#!/bin/sh
# A signed host-info call with curl and openssl.
# Usage: PANTHERA_URL=http://127.0.0.1:8080 PANTHERA_API_KEY=... PANTHERA_API_SECRET=... sh host-info.sh
set -eu
URL=${PANTHERA_URL:-http://127.0.0.1:8080}
TS=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')
NONCE=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
ACCESS_KEY=$(printf '%s' "$TS$PANTHERA_API_KEY$NONCE" \
  | openssl dgst -sha1 -hmac "$PANTHERA_API_SECRET" | sed 's/^.*= //')
curl -sS -A my-app/1.0 "$URL/v1.0/host-info" \
  --data-urlencode "api_key=$PANTHERA_API_KEY" \
  --data-urlencode "access_key=$ACCESS_KEY" \
  --data-urlencode "timestamp=$TS" \
  --data-urlencode "nonce=$NONCE"
