# shellcheck shell=bash
# Sourced by the bin/ scripts: prints the path of the php-redis-sessions binary, or says
# on stderr why there is none and returns 1.
#  - a packaged buildpack ships it as lib/php-redis-sessions;
#  - a source checkout has it in target/release after `cargo build --release`.
find_helper() {
  local bp_dir=$1 candidate
  for candidate in "$bp_dir/lib/php-redis-sessions" "$bp_dir/target/release/php-redis-sessions"; do
    if [ -x "$candidate" ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  echo "PHP Redis Sessions: the helper binary is missing; run \`cargo build --release\` in $bp_dir, or use a packaged release of the buildpack" >&2
  return 1
}
