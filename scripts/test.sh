#!/usr/bin/env bash
# The one test command: installs what the tests need, checks formatting, runs clippy and
# ShellCheck, runs every test, then scans all of the output for the test passwords.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/ensure-packages.sh
source scripts/ensure-packages.sh
ensure_packages

# scripts/package.sh (run by the packaging test) builds the helper as it ships, for musl.
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
  echo "==> Installing the Rust target x86_64-unknown-linux-musl"
  rustup target add x86_64-unknown-linux-musl
fi

echo "==> Debian 13 test runtime (PHP 8.4, phpredis 6, Redis 8), built once and cached"
scripts/trixie-runtime.sh ensure

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "==> cargo fmt --check"
cargo fmt --check
echo "==> cargo clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings
echo "==> benchmarks/: cargo fmt --check and clippy (linted here, run only by scripts/bench.sh)"
cargo fmt --check --manifest-path benchmarks/Cargo.toml
cargo clippy --quiet --all-targets --manifest-path benchmarks/Cargo.toml --target-dir target/bench -- -D warnings
echo "==> shellcheck"
shellcheck -x bin/detect bin/compile bin/release bin/build lib/find-helper.sh files/profile.sh files/exec-d.sh scripts/*.sh .ci/run
# The pack + Docker test cannot run here: lint and type-check it so that it does not rot.
echo "==> pack-tests (lint only: pack and Docker are not available)"
cargo fmt --manifest-path pack-tests/Cargo.toml --check
cargo clippy --quiet --manifest-path pack-tests/Cargo.toml --all-targets --target-dir target/pack-tests -- -D warnings
# The fuzz targets are not part of the workspace: lint them, build them, and run each over
# its seeds and 200,000 mutations of them (libFuzzer without coverage: a smoke run that
# keeps them compiling and their assertions true; the README's cargo fuzz runs are the
# real thing).
echo "==> fuzz/: lint, build, and a smoke run of each target"
cargo fmt --manifest-path fuzz/Cargo.toml --check
cargo clippy --quiet --manifest-path fuzz/Cargo.toml --all-targets --target-dir target/fuzz-smoke -- -D warnings
cargo build --quiet --release --manifest-path fuzz/Cargo.toml --target-dir target/fuzz-smoke
for target in composer session_config; do
  smoke=$(mktemp -d)
  target/fuzz-smoke/release/$target -runs=200000 -seed=1 -artifact_prefix="$smoke/" \
    "$smoke" "fuzz/seeds/$target" 2>"$smoke/log" ||
    { echo "FAILED: fuzz target $target; its log and crashing input are in $smoke" >&2; exit 1; }
  rm -rf "$smoke"
done

echo "==> cargo test"
status=0
cargo test --release 2>&1 | tee "$log" || status=$?

# Every test password contains this marker (tests/support/mod.rs): it must never be printed.
if grep -q 'Sekr1t' "$log"; then
  echo "FAILED: a test password appeared in the test output" >&2
  exit 1
fi
# One closing line for all the test binaries together.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "%d passed, %d failed\n", passed, failed }' "$log"
exit "$status"
