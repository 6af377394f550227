# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/demo.sh: installs the Debian packages the tests and
# the demo run for real (PHP with phpredis, Redis, shellcheck) when they are missing.
ensure_packages() {
  local missing=()
  command -v php >/dev/null || missing+=(php-cli)
  { command -v php >/dev/null && php -r 'exit(extension_loaded("redis") ? 0 : 1);'; } || missing+=(php-redis)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v curl >/dev/null || missing+=(curl)
  command -v readelf >/dev/null || missing+=(binutils)
  command -v openssl >/dev/null || missing+=(openssl)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> Installing Debian packages: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
