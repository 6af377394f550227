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
  # libfuzzer-sys compiles libFuzzer (C++) for the fuzz targets' smoke run.
  command -v c++ >/dev/null || missing+=(g++)
  # The web tier: php-fpm behind nginx or Apache httpd, as Heroku's web dynos run PHP.
  compgen -G '/usr/sbin/php-fpm*' >/dev/null || missing+=(php-fpm)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  [ -x /usr/sbin/apache2 ] || missing+=(apache2)
  # Framework code, as Debian packages it: Symfony's HttpFoundation sessions, Laravel's.
  [ -e /usr/share/php/Symfony/Component/HttpFoundation/Session/Storage/NativeSessionStorage.php ] ||
    missing+=(php-symfony-http-foundation)
  local illuminate
  for illuminate in session config container; do
    [ -d "/usr/share/php/Illuminate/${illuminate^}" ] || missing+=("php-illuminate-$illuminate")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> Installing Debian packages: ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    # The tests start nginx, Apache and php-fpm themselves, on ports of their own: keep
    # the packages from starting the system's services (policy-rc.d 101: "not allowed").
    local policy=/usr/sbin/policy-rc.d placed=''
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
      "${sudo[@]}" chmod 755 "$policy"
      placed=yes
    fi
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    if [ -n "$placed" ]; then "${sudo[@]}" rm -f "$policy"; fi
  fi
}
