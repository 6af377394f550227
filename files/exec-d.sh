#!/bin/sh
# PHP Redis Sessions buildpack: the launch layer's exec.d program. The CNB launcher runs it
# before every process, with the launch environment and file descriptor 3 open; the helper
# it runs hands the session settings to the launcher on that descriptor.
# A non-zero exit here would abort the launch, so it always exits 0: if the helper cannot
# start (a binary built for another machine, say), PHP keeps its default file sessions.
case $0 in
  */*) layer=${0%/*}/.. ;;
  *) layer=.. ;;
esac
"$layer/bin/php-redis-sessions" exec-d || echo "php-redis-sessions: the boot helper could not run (exit $?), so PHP keeps its default file sessions; build with a packaged release of the buildpack, whose helper is a static x86_64 Linux program" >&2
exit 0
