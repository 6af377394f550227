# shellcheck shell=bash
# PHP Redis Sessions buildpack: sourced before every dyno process (web, worker, one-off).
# The helper reads the Redis URL now, at boot, so rotated credentials need only a restart,
# and exports the session settings that php-redis-sessions.ini reads with ${...}.
# Without a usable URL it exports nothing: PHP keeps its default file sessions.
# `php-redis-sessions doctor` on PATH, for `heroku run php-redis-sessions doctor`.
case ":$PATH:" in
  *":$HOME/.php-redis-sessions/bin:"*) ;;
  *) export PATH="$PATH:$HOME/.php-redis-sessions/bin" ;;
esac
if [ -x "$HOME/.php-redis-sessions/bin/php-redis-sessions" ]; then
  eval "$("$HOME/.php-redis-sessions/bin/php-redis-sessions" boot --shell)"
fi
