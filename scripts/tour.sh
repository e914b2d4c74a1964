#!/usr/bin/env bash
# The README's quick-start tour, runnable against a server (BASE_URL, default
# http://localhost:3000): `bash scripts/tour.sh`. It stops at the first failed request, and fails
# unless the logged-out token is refused and /auth/me then answers the registered user's id.
# test/docs/tour.docs-spec.ts runs it against a live server and checks that the README shows
# exactly the lines between the markers below.
set -euo pipefail

# --- tour ---
EMAIL="ada-$(date +%s)-$RANDOM@example.com"   # a fresh account at each run
PASSWORD='correct horse battery staple 42'
BASE_URL="${BASE_URL:-http://localhost:3000}"
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]]))' "$1"; }
post() { curl -fsS "$BASE_URL$1" -H 'content-type: application/json' -d "$2" "${@:3}"; }
# Register, then sign in with the refresh token in the body (a CLI or native client).
USER_ID=$(post /auth/register "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | field id)
LOGIN=$(post /auth/login "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\",\"refreshTokenDelivery\":\"body\"}")
ACCESS_TOKEN=$(echo "$LOGIN" | field accessToken)
REFRESH_TOKEN=$(echo "$LOGIN" | field refreshToken)
# Who am I? {"sub":"<user id>","sid":"<session id>"}
curl -fsS "$BASE_URL/auth/me" -H "authorization: Bearer $ACCESS_TOKEN"; echo
# Rotate: a new access token and refresh token; the old refresh token is spent.
ACCESS_TOKEN=$(post /auth/refresh "{\"refreshToken\":\"$REFRESH_TOKEN\"}" | field accessToken)
# Log out: the session ends and its access tokens are refused at once (401 SESSION_REVOKED).
post /auth/logout '{}' -H "authorization: Bearer $ACCESS_TOKEN"
AFTER_LOGOUT=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE_URL/auth/me" -H "authorization: Bearer $ACCESS_TOKEN")
echo "/auth/me after logout: $AFTER_LOGOUT"
# Sign in again: /auth/me answers the user's id.
ACCESS_TOKEN=$(post /auth/login "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | field accessToken)
ME=$(curl -fsS "$BASE_URL/auth/me" -H "authorization: Bearer $ACCESS_TOKEN" | field sub)
echo "/auth/me: $ME"
# --- end of tour ---

if [[ $AFTER_LOGOUT != 401 ]]; then echo "tour: /auth/me after logout answered $AFTER_LOGOUT, expected 401" >&2; exit 1; fi
if [[ $ME != "$USER_ID" ]]; then echo "tour: /auth/me answered '$ME', expected the registered id '$USER_ID'" >&2; exit 1; fi
