#!/usr/bin/env bash
# The benchmark command: what the buildpack costs (dyno boot, build, slug size) and what it
# buys (session throughput, latency and lost writes), each side by side with the
# alternative, in one run. Writes a markdown report, the machine's description, the raw
# timings and a plot to benchmarks/results/.
#
#   scripts/bench.sh            the full run (about 10 minutes on 2 cores)
#   scripts/bench.sh --quick    a short run for development; results go to target/bench-quick/
#   scripts/bench.sh --out DIR  results elsewhere
#
# It installs what it needs: Debian packages (PHP, phpredis, Redis, hyperfine), the Debian 13
# runtime for the session rows (scripts/trixie-runtime.sh; PHP 8.4 with phpredis 6, whose
# session handler honours TLS options, unlike Debian 12's phpredis 5.3), and matplotlib in
# a virtualenv under target/. Without root, the session rows run on this machine's own PHP
# and the TLS rows are reported as not run. BENCH_RUNTIME=host forces that.
# A benchmark, not a test: nothing here asserts on timings, and CI never runs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

quick=0
out=''
while [ $# -gt 0 ]; do
  case $1 in
  --quick) quick=1 ;;
  --out)
    [ $# -ge 2 ] || { echo "--out needs a directory" >&2; exit 2; }
    out=$2
    shift
    ;;
  *) echo "usage: scripts/bench.sh [--quick] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$out" ]; then
  if [ "$quick" = 1 ]; then out=target/bench-quick; else out=benchmarks/results; fi
fi
if [ "$quick" = 1 ]; then
  rounds=2 boot_runs=20 build_runs=5 quick_flag=(--quick)
else
  rounds=5 boot_runs=60 build_runs=10 quick_flag=()
fi
# hyperfine runs all of one command's runs, then the next command's: a burst of someone
# else's work would land on one command. So every timing runs in rounds, each round
# timing every command, and the report pools the rounds.
# timed_rounds NAME WARMUP RUNS [env NAME=VALUE... --] HYPERFINE-COMMAND-ARGS...
timed_rounds() {
  local name=$1 warmup=$2 runs=$3 round prefix=()
  shift 3
  if [ "$1" = env ]; then
    while [ "$1" != -- ]; do prefix+=("$1") && shift; done
    shift
  fi
  for round in $(seq "$rounds"); do
    echo "    round $round/$rounds"
    "${prefix[@]}" hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
      --export-json "$data/$name-$round.json" "$@"
  done
}

# shellcheck source=scripts/ensure-packages.sh
source scripts/ensure-packages.sh
ensure_packages
if ! command -v hyperfine >/dev/null; then
  echo "==> Installing hyperfine"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends hyperfine >/dev/null
fi
venv=target/bench-venv
if ! "$venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  echo "==> Installing matplotlib in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r benchmarks/requirements.txt
fi

# Outside /tmp: the Debian 13 runtime gets an empty /tmp of its own, and this is bound in.
work=$(mktemp -d /var/tmp/php-redis-sessions-bench.XXXXXX)
# mktemp makes it 0700, and nginx's worker (nobody) and Apache's (www-data) must reach the
# document root below it: without this, every request logged a `stat() ... Permission
# denied` line and the report counted them as warnings.
chmod 755 "$work"

echo "==> The buildpack as it ships (scripts/package.sh: the static helper), and the benchmark tools"
scripts/package.sh --out "$work/dist" >/dev/null
buildpack=$(find "$work/dist" -mindepth 1 -maxdepth 1 -type d -name 'php-redis-sessions-buildpack-*')
cargo build --release --quiet --manifest-path benchmarks/Cargo.toml --target-dir target/bench
tool=$repo/target/bench/release/php-redis-sessions-bench
helper=$buildpack/lib/php-redis-sessions
noise_pid=''
cleanup() {
  [ -z "$noise_pid" ] || kill "$noise_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
data=$work/data
mkdir -p "$data"

# Other people's work on this machine while we measure: the CPU time of every process
# outside this shell's session, sampled each second and filed under the current phase.
phase() { echo "$1" >"$work/phase"; }
phase setup
session=$(sed 's/.*) //' "/proc/$$/stat" | cut -d' ' -f4)
"$tool" noise --session "$session" --phase-file "$work/phase" --out "$data/noise.json" &
noise_pid=$!

# Percentage of CPU time the whole machine spent busy over one second.
cpu_busy() {
  local a b
  a=$(head -n 1 /proc/stat)
  sleep 1
  b=$(head -n 1 /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {
    split(a, x); split(b, y); total = 0; idle = 0
    for (i = 2; i <= 9; i++) total += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6])
    printf "%.0f", (total > 0 ? 100 * (total - idle) / total : 0) }'
}
{
  echo "started=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "cpu_busy_start=$(cpu_busy)"
} >"$data/machine.env"

echo "==> Apps: the example app, and a generated one with a large composer.lock"
small=$work/small large=$work/large
mkdir -p "$small" "$large" "$work/cache" "$work/env"
cp -R example/. "$small/"
"$tool" gen-app --dir "$large" --packages 4000
cp -R example/public "$large/"
# Byte size of a directory as a slug ships it: a gzipped tarball.
slug_bytes() { tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$1" -cf - . | gzip -6 | wc -c; }
files_before=$(cd "$small" && find . -type f | sort)
slug_before=$(slug_bytes "$small")
for app in "$small" "$large"; do
  "$buildpack/bin/detect" "$app" >/dev/null
  "$buildpack/bin/compile" "$app" "$work/cache" "$work/env" >/dev/null
done
slug_after=$(slug_bytes "$small")
added_files=$(comm -13 <(echo "$files_before") <(cd "$small" && find . -type f | sort))
added_bytes=0
while read -r file; do
  added_bytes=$((added_bytes + $(stat -c %s "$small/$file")))
done <<<"$added_files"
{
  echo "helper_bytes=$(stat -c %s "$helper")"
  echo "helper_gzip_bytes=$(gzip -9c "$helper" | wc -c)"
  echo "slug_files_added=$(echo "$added_files" | tr '\n' ' ')"
  echo "slug_bytes_added=$added_bytes"
  echo "slug_gzip_before=$slug_before"
  echo "slug_gzip_after=$slug_after"
  echo "large_lock_bytes=$(stat -c %s "$large/composer.lock")"
  echo "large_lock_packages=4000"
  echo "small_lock_bytes=$(stat -c %s "$small/composer.lock")"
} >"$data/size.env"

echo "==> Build cost: bin/detect and bin/compile against grep, $rounds rounds of $build_runs runs each"
phase build
timed_rounds build 2 "$build_runs" \
  -n "grep, small app" "grep -q -F ext-redis $small/composer.json $small/composer.lock" \
  -n "detect, small app" "$buildpack/bin/detect $small" \
  -n "compile, small app" "$buildpack/bin/compile $small $work/cache $work/env" \
  -n "grep, large app" "grep -q -F ext-redis $large/composer.json $large/composer.lock" \
  -n "detect, large app" "$buildpack/bin/detect $large" \
  -n "compile, large app" "$buildpack/bin/compile $large $work/cache $work/env"

# The exec.d program of a CNB build, when the buildpack has one (bin/build); or the one
# named by BENCH_EXECD_PROGRAM. Prints its path, or why there is none on stderr.
execd_program() {
  if [ -n "${BENCH_EXECD_PROGRAM:-}" ]; then
    echo "$BENCH_EXECD_PROGRAM"
    return 0
  fi
  if [ ! -x "$buildpack/bin/build" ]; then
    echo "no CNB bin/build in this checkout yet" >&2
    return 1
  fi
  local cnb=$work/cnb
  mkdir -p "$cnb/app" "$cnb/layers" "$cnb/platform/env"
  cp -R example/. "$cnb/app/"
  : >"$cnb/plan.toml"
  if ! (cd "$cnb/app" && env CNB_BUILDPACK_DIR="$buildpack" CNB_LAYERS_DIR="$cnb/layers" \
    CNB_PLATFORM_DIR="$cnb/platform" CNB_BP_PLAN_PATH="$cnb/plan.toml" \
    "$buildpack/bin/build" "$cnb/layers" "$cnb/platform" "$cnb/plan.toml" >"$cnb/build.log" 2>&1); then
    echo "the CNB build failed (bin/build); see its log" >&2
    return 1
  fi
  local program
  program=$(find "$cnb/layers" -path '*/exec.d/*' -type f -perm -u+x | sort | head -n 1)
  if [ -z "$program" ]; then
    echo "the CNB build made no exec.d program" >&2
    return 1
  fi
  echo "$program"
}

echo "==> Boot cost: sourcing .profile.d scripts, $rounds rounds of $boot_runs runs each"
phase boot
empty=$work/empty.sh
: >"$empty"
profile=$small/.profile.d/200-php-redis-sessions.sh
# A typical Heroku Key-Value Store URL: TLS, a 65-character password, an EC2 host name.
password=p$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
url="rediss://:$password@ec2-203-0-113-10.compute-1.amazonaws.com:12345"
dyno_env=(env -i PATH="$PATH" HOME="$small" REDIS_URL="$url")
# The numbers only mean something if boot really derives the settings.
# shellcheck disable=SC2016 # expanded by the dyno's bash
"${dyno_env[@]}" bash -c '. "$1" && [ -n "${PHP_REDIS_SESSIONS_INI_SAVE_PATH:-}" ]' _ "$profile" ||
  { echo "the .profile.d script did not set the session settings" >&2; exit 1; }
boot_commands=(
  -n "bash sourcing an empty script" "bash --noprofile --norc -c '. $empty'"
  -n "bash sourcing the buildpack's .profile.d script" "bash --noprofile --norc -c '. $profile'"
  -n "helper: boot --shell" "$small/.php-redis-sessions/bin/php-redis-sessions boot --shell"
)
if execd=$(execd_program 2>"$data/execd-missing.txt"); then
  # exec.d programs write their settings to file descriptor 3.
  if "${dyno_env[@]}" "$execd" 3>"$work/execd.out" >/dev/null && [ -s "$work/execd.out" ]; then
    boot_commands+=(-n "exec.d program" "$execd")
    : >"$data/execd-missing.txt"
  else
    echo "the exec.d program failed or wrote no settings" >"$data/execd-missing.txt"
  fi
fi
timed_rounds boot 10 "$boot_runs" "${dyno_env[@]}" -- "${boot_commands[@]}" 3>/dev/null

echo "==> Session throughput, latency and lost writes"
phase sessions
runtime=${BENCH_RUNTIME:-}
if [ -z "$runtime" ]; then
  if [ "$(id -u)" -eq 0 ]; then runtime=trixie; else runtime=host; fi
fi
# Built again as Heroku builds it, after the PHP buildpack: with the PHP that will serve
# the sessions where the build looks for it, so that the slug records its phpredis
# version (boot picks phpredis' settings by version). The build rows above have no PHP.
mkdir -p "$small/.heroku/php/bin"
if [ "$runtime" = trixie ]; then
  scripts/trixie-runtime.sh ensure >/dev/null
  printf '#!/bin/sh\nexec %q run -- php "$@"\n' "$repo/scripts/trixie-runtime.sh" >"$small/.heroku/php/bin/php"
else
  printf '#!/bin/sh\nexec php "$@"\n' >"$small/.heroku/php/bin/php"
fi
chmod 755 "$small/.heroku/php/bin/php"
"$buildpack/bin/compile" "$small" "$work/cache" "$work/env" >"$work/compile-sessions.log"
grep -q 'loads phpredis' "$work/compile-sessions.log" ||
  { echo "the build did not find the runtime's phpredis:" >&2; cat "$work/compile-sessions.log" >&2; exit 1; }
mv "$small" "$work/slug" # as Heroku does, the slug runs elsewhere than it was built
sessions_args=(sessions --slug "$work/slug" --work "$work/sessions"
  --handwritten "$repo/benchmarks/php/handwritten.php" --out "$data/sessions.json" "${quick_flag[@]}")
if [ "$runtime" = trixie ]; then
  scripts/trixie-runtime.sh ensure >/dev/null
  scripts/trixie-runtime.sh run --bind "$repo" --bind "$work" --cwd "$work" -- \
    "$tool" "${sessions_args[@]}" --tls
else
  "$tool" "${sessions_args[@]}"
fi

phase stop
wait "$noise_pid"
noise_pid=''
{
  echo "finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "cpu_busy_end=$(cpu_busy)"
  echo "cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "cpus=$(nproc)"
  echo "memory_kib=$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "kernel=$(uname -r)"
  echo "virtualization=$(lscpu 2>/dev/null | awk -F': *' '/Hypervisor vendor/ { print $2 }')"
  echo "host_php=$(php -r 'echo PHP_VERSION;')"
  echo "host_phpredis=$(php -r 'echo phpversion("redis");')"
  echo "host_redis=$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
  echo "rustc=$(rustc --version)"
  echo "hyperfine=$(hyperfine --version)"
  echo "bash=${BASH_VERSION}"
  echo "sessions_runtime=$runtime"
  echo "quick=$quick"
} >>"$data/machine.env"

echo "==> Report in $out"
mkdir -p "$out"
readme=()
# The full run into the committed results also writes the README's benchmark tables.
[ "$quick" = 1 ] || [ "$out" != benchmarks/results ] || readme=(--readme README.md)
"$venv/bin/python" benchmarks/report.py --data "$data" --out "$out" "${readme[@]}"
