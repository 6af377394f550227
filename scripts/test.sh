#!/usr/bin/env bash
# The one test command: installs what the tests need, checks formatting, runs clippy and
# ShellCheck, runs every test, then scans all of the output for the test passwords.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/ensure-packages.sh
source scripts/ensure-packages.sh
ensure_packages

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "==> cargo fmt --check"
cargo fmt --check
echo "==> cargo clippy"
cargo clippy --quiet --all-targets -- -D warnings
echo "==> benchmarks/: cargo fmt --check and clippy (linted here, run only by scripts/bench.sh)"
cargo fmt --check --manifest-path benchmarks/Cargo.toml
cargo clippy --quiet --all-targets --manifest-path benchmarks/Cargo.toml --target-dir target/bench -- -D warnings
echo "==> shellcheck"
shellcheck -x bin/detect bin/compile bin/release lib/find-helper.sh files/profile.sh scripts/*.sh .ci/run

echo "==> cargo test"
status=0
cargo test --release 2>&1 | tee "$log" || status=$?

# Every test password contains this marker (tests/support/mod.rs): it must never be printed.
if grep -q 'Sekr1t' "$log"; then
  echo "FAILED: a test password appeared in the test output" >&2
  exit 1
fi
exit "$status"
