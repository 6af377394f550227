#!/usr/bin/env bash
# Runs the buildpack end to end on the bundled example app, as Heroku would: detect,
# compile and release into a build directory, move the slug elsewhere (Heroku runs it at
# /app), then boot a "dyno" against a local password-protected redis-server, make three
# requests with one session cookie, and show the session stored in Redis.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
# shellcheck source=scripts/ensure-packages.sh
source scripts/ensure-packages.sh
ensure_packages

echo "==> cargo build --release"
cargo build --release --quiet

work=$(mktemp -d)
redis_pid='' web_pid=''
cleanup() {
  [ -z "$web_pid" ] || kill -- "-$web_pid" 2>/dev/null || true
  [ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/build" "$work/cache" "$work/env"
cp -R example/. "$work/build/"

echo "==> bin/detect"
"$repo/bin/detect" "$work/build"
echo "==> bin/compile"
"$repo/bin/compile" "$work/build" "$work/cache" "$work/env"
echo "==> bin/release"
"$repo/bin/release" "$work/build"

mv "$work/build" "$work/app"
# shellcheck disable=SC2016 # PHP code, not shell
free_port() { php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];'; }

redis_port=$(free_port)
password="demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n'),with spaces & symbols"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
redis_pid=$!
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
redis-cli -p "$redis_port" ACL SETUSER default on resetpass ">$password" >/dev/null
# The password percent-encoded, as providers put it in REDIS_URL.
# shellcheck disable=SC2016 # PHP code, not shell
encoded=$(php -r 'echo rawurlencode($argv[1]);' "$password")

web_port=$(free_port)
echo "==> Booting a dyno: REDIS_URL=redis://:<password>@127.0.0.1:$redis_port, web: php -S with 4 workers"
# setsid: the dyno gets its own process group, so cleanup stops php's workers too.
# shellcheck disable=SC2016 # expanded by the dyno shell
setsid env -i PATH="$PATH" HOME="$work/app" PHP_CLI_SERVER_WORKERS=4 \
  REDIS_URL="redis://:$encoded@127.0.0.1:$redis_port" \
  bash -c 'for f in "$HOME"/.profile.d/*.sh; do . "$f"; done; cd "$HOME" && exec php -S "127.0.0.1:$1" -t public' \
  _ "$web_port" >"$work/web.log" 2>&1 &
web_pid=$!
until curl -s -o /dev/null "http://127.0.0.1:$web_port/"; do sleep 0.1; done

echo "==> Three requests with one session cookie"
for _ in 1 2 3; do
  curl -s -b "$work/cookies" -c "$work/cookies" "http://127.0.0.1:$web_port/"
done
session_id=$(awk '$6 == "PHPSESSID" { print $7 }' "$work/cookies")

echo "==> In Redis: GET PHPREDIS_SESSION:$session_id"
REDISCLI_AUTH=$password redis-cli -p "$redis_port" --no-auth-warning GET "PHPREDIS_SESSION:$session_id"
echo "==> TTL (session.gc_maxlifetime):"
REDISCLI_AUTH=$password redis-cli -p "$redis_port" --no-auth-warning TTL "PHPREDIS_SESSION:$session_id"

echo "==> heroku run php-redis-sessions doctor (a one-off process in the same dyno setup)"
# shellcheck disable=SC2016 # expanded by the dyno shell
env -i PATH="$PATH" HOME="$work/app" REDIS_URL="redis://:$encoded@127.0.0.1:$redis_port" \
  bash -c 'for f in "$HOME"/.profile.d/*.sh; do . "$f"; done; cd "$HOME" && php-redis-sessions doctor'
