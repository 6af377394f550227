# shellcheck shell=bash
# PHP Redis Sessions buildpack: sourced before every dyno process (web, worker, one-off).
# The helper reads the Redis URL now, at boot, so rotated credentials need only a restart,
# and exports the session settings that php-redis-sessions.ini reads with ${...}.
# Without a usable URL it exports nothing: PHP keeps its default file sessions.
# `php-redis-sessions doctor` on PATH, for `heroku run php-redis-sessions doctor`.
case ":$PATH:" in
  *":${HOME:-/app}/.php-redis-sessions/bin:"*) ;;
  *) export PATH="$PATH:${HOME:-/app}/.php-redis-sessions/bin" ;;
esac
if [ -x "${HOME:-/app}/.php-redis-sessions/bin/php-redis-sessions" ]; then
  # The exports hold the password: never let a shell that traces (set -x, set -v) echo
  # them into the dyno's log. The shell's options are restored right after.
  __php_redis_sessions_flags=$-
  set +xv
  eval "$("${HOME:-/app}/.php-redis-sessions/bin/php-redis-sessions" boot --shell)"
  case $__php_redis_sessions_flags in *v*) set -v ;; esac
  case $__php_redis_sessions_flags in *x*) set -x ;; esac
  unset __php_redis_sessions_flags
fi
