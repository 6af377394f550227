# shellcheck shell=bash
# PHP Redis Sessions buildpack: sourced before every dyno process (web, worker, one-off).
# The helper reads the Redis URL now, at boot, so rotated credentials need only a restart,
# and exports the session settings that php-redis-sessions.ini reads with ${...}.
# Without a usable URL it exports nothing: PHP keeps its default file sessions.
# The slug is found from this script's own path (.../.profile.d/THIS), not from HOME, and
# the helper is started by its full path, which is how it finds its ini. It puts itself on
# PATH for `heroku run php-redis-sessions doctor`. Safe in a shell with `set -eu`, with
# PATH unset (left unset) or empty (no empty element, which would mean the current
# directory, is added).
__php_redis_sessions_bin=${BASH_SOURCE[0]-}
case $__php_redis_sessions_bin in
  */.profile.d/*) __php_redis_sessions_bin=${__php_redis_sessions_bin%/.profile.d/*} ;;
  .profile.d/*) __php_redis_sessions_bin=. ;;
  *) __php_redis_sessions_bin=${HOME:-/app} ;;
esac
case $__php_redis_sessions_bin in
  /*) ;;
  *) __php_redis_sessions_bin=$PWD/$__php_redis_sessions_bin ;;
esac
__php_redis_sessions_bin=$__php_redis_sessions_bin/.php-redis-sessions/bin
if [ -n "${PATH+set}" ]; then
  case ":$PATH:" in
    *":$__php_redis_sessions_bin:"*) ;;
    ::) export PATH="$__php_redis_sessions_bin" ;;
    *) export PATH="$PATH:$__php_redis_sessions_bin" ;;
  esac
fi
if [ -x "$__php_redis_sessions_bin/php-redis-sessions" ]; then
  # The exports hold the password: never let a shell that traces (set -x, set -v) echo
  # them into the dyno's log. The shell's options are restored right after.
  __php_redis_sessions_flags=$-
  set +xv
  eval "$("$__php_redis_sessions_bin/php-redis-sessions" boot --shell)"
  case $__php_redis_sessions_flags in *v*) set -v ;; esac
  case $__php_redis_sessions_flags in *x*) set -x ;; esac
  unset __php_redis_sessions_flags
else
  echo "php-redis-sessions: the boot helper is missing from $__php_redis_sessions_bin, so PHP keeps its default file sessions; deploy the app again (git commit --allow-empty, git push)" >&2
fi
unset __php_redis_sessions_bin
