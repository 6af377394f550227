#!/usr/bin/env bash
# Build once, cache, and use a Debian 13 (trixie) root filesystem with PHP 8.4,
# phpredis 6.x and Redis, for running tests in a chroot.
#
# Usage (as root):
#   scripts/trixie-runtime.sh ensure        build the rootfs if missing, print its path
#   scripts/trixie-runtime.sh path          print the rootfs path (does not build)
#   scripts/trixie-runtime.sh mirror        print the Debian mirror a build would use
#   scripts/trixie-runtime.sh run [--bind DIR]... [--env NAME=VALUE]... [--cwd DIR] [--] CMD [ARG]...
#       run CMD inside the rootfs (building it first if needed). The chroot shares the
#       host's network namespace, so servers started inside are reachable on 127.0.0.1.
#       --bind DIR        bind-mount host directory DIR at the same path inside (repeatable)
#       --env NAME=VALUE  set a variable; the command otherwise gets a clean environment
#                         (PATH, HOME=/root, LANG=C.UTF-8)
#       --cwd DIR         working directory inside the chroot (default /)
#     Every run gets its own mount namespace (unshare --mount): fresh /proc, the host's /dev,
#     an empty tmpfs on /tmp and /run, and the binds; all of it vanishes when the command
#     (and anything it left running) exits. Exit status is the command's.
#     CMD is exec'd, not forked: killing the process you spawned kills CMD itself.
#
# Environment:
#   PHP_REDIS_SESSIONS_TRIXIE_ROOT    rootfs location
#                                     (default /var/cache/php-redis-sessions/trixie-rootfs-v3: the recipe's version)
#   PHP_REDIS_SESSIONS_TRIXIE_MIRROR  Debian mirror (default: the first Debian mirror of
#                                     this machine's apt sources, see find_mirror)
set -eu
set -o pipefail

# The default location names the recipe's version (STAMP's first word): checkouts with
# another recipe keep their own runtime instead of rebuilding each other's.
ROOT=${PHP_REDIS_SESSIONS_TRIXIE_ROOT:-/var/cache/php-redis-sessions/trixie-rootfs-v3}
ROOT=${ROOT%/}
# Found when a build needs it (find_mirror), so that a cached rootfs needs no apt sources.
MIRROR=${PHP_REDIS_SESSIONS_TRIXIE_MIRROR:-}
SUITE=trixie
NO_MIRROR="found no Debian mirror in this machine's apt sources (sources.list, sources.list.d/*.list and *.sources);\
 set PHP_REDIS_SESSIONS_TRIXIE_MIRROR to the URL of a Debian mirror"
PACKAGES=php8.4-cli,php8.4-fpm,php-redis,redis-server,redis-tools,openssl,ca-certificates,netbase,nginx,apache2,php-symfony-http-foundation,php-illuminate-session,php-illuminate-config,php-illuminate-container
MARKER=.php-redis-sessions-ready
# Bump the version when the build recipe changes: a different stamp forces a rebuild.
STAMP="v3 $SUITE minbase $PACKAGES"
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Runs inside the chroot: cd to $1, then exec the rest.
# shellcheck disable=SC2016
CD_EXEC='cd "$1" || exit 125; shift; exec "$@"'
SELF=$(readlink -f "${BASH_SOURCE[0]}")

say() { printf 'trixie-runtime: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

need_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot and mount need it); try sudo"
}

is_ready() {
    [ -f "$ROOT/$MARKER" ] && [ "$(head -n 1 "$ROOT/$MARKER")" = "stamp=$STAMP" ]
}

# Fail if anything is mounted at or below $1 (rm -rf would follow a bind mount).
assert_no_mounts_below() {
    local dir=$1 hits
    hits=$(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo)
    [ -z "$hits" ] || die "refusing to delete $dir: mounts below it: $(echo "$hits" | tr '\n' ' ')"
}

safe_rm() {
    [ -e "$1" ] || return 0
    assert_no_mounts_below "$1"
    rm -rf --one-file-system "$1"
}

have_unshare() {
    command -v unshare >/dev/null 2>&1 && unshare --mount --propagation private true 2>/dev/null
}

# Debian's release names (the ones debootstrap can build from, and the next) and the
# aliases apt sources use for them. Sources for other distributions (an Ubuntu codename,
# a vendor's `cloud-sdk-bookworm`) and for security updates (`bookworm-security`, served
# from another archive) do not name one of these.
DEBIAN_SUITES="buster bullseye bookworm trixie forky duke sid oldoldstable oldstable stable testing unstable"

# The apt source files, in the order apt reads them: the main list, then the parts
# directory's *.list and *.sources files by name. apt-config gives their places (it
# honours APT_CONFIG and Dir::Etc), when it is there.
apt_source_files() {
    local list=/etc/apt/sources.list parts=/etc/apt/sources.list.d/ file
    if command -v apt-config >/dev/null 2>&1; then
        eval "$(apt-config shell list Dir::Etc::sourcelist/f parts Dir::Etc::sourceparts/d 2>/dev/null)"
    fi
    [ ! -f "$list" ] || printf '%s\n' "$list"
    for file in "${parts%/}"/*; do
        case $file in *.list | *.sources) [ ! -f "$file" ] || printf '%s\n' "$file" ;; esac
    done
}

# Prints the URI of the first enabled `deb` source whose suite is a Debian release (or its
# -updates, -backports or -proposed-updates), in one-line (`deb [options] URI SUITE
# COMPONENT...`) or deb822 (`Types:`, `URIs:`, `Suites:`, `Enabled:`) format; an http,
# https, ftp or file URI only (not cdrom:, mirror+file: and the like, which debootstrap
# cannot use). Returns 1 when there is none.
find_mirror() {
    local file format found
    while IFS= read -r file; do
        format=list
        case $file in *.sources) format=deb822 ;; esac
        found=$(awk -v format="$format" -v suites="$DEBIAN_SUITES" "$FIND_MIRROR_AWK" "$file") || true
        if [ -n "$found" ]; then
            printf '%s\n' "${found%/}"
            return 0
        fi
    done < <(apt_source_files)
    return 1
}

# shellcheck disable=SC2016
FIND_MIRROR_AWK='
function debian_suite(suite) {
    sub(/-(updates|backports|backports-sloppy|proposed-updates)$/, "", suite)
    return index(" " suites " ", " " suite " ") > 0
}
function usable_uri(uri) {
    return uri ~ /^(https?|ftp):\/\/[^\/[:space:]]+/ || uri ~ /^file:\//
}
function has_word(list, word,    n, i, words) {
    n = split(list, words, /[[:space:]]+/)
    for (i = 1; i <= n; i++) if (words[i] == word) return 1
    return 0
}
# A deb822 stanza ends: take it if it qualifies.
function stanza_end(    n, i, k, m, s, u) {
    if (done || !has_word(types, "deb") || tolower(enabled) == "no") {
        types = uris = suites_field = enabled = ""
        return
    }
    m = split(suites_field, s, /[[:space:]]+/)
    n = split(uris, u, /[[:space:]]+/)
    for (k = 1; k <= m; k++) {
        if (s[k] == "" || !debian_suite(s[k])) continue
        for (i = 1; i <= n; i++) {
            if (u[i] != "" && usable_uri(u[i])) { print u[i]; done = 1; exit }
        }
    }
    types = uris = suites_field = enabled = ""
}
format == "list" {
    line = $0
    sub(/#.*/, "", line)
    if (line !~ /^[[:space:]]*deb[[:space:]]/) next
    sub(/^[[:space:]]*deb[[:space:]]+/, "", line)
    if (line ~ /^\[/ && !sub(/^\[[^]]*\][[:space:]]*/, "", line)) next
    n = split(line, f, /[[:space:]]+/)
    if (n >= 2 && usable_uri(f[1]) && debian_suite(f[2])) { print f[1]; done = 1; exit }
    next
}
/^#/ { next }
/^[[:space:]]*$/ { stanza_end(); field = ""; next }
/^[[:space:]]/ {
    # A continued field: URIs and Suites may go on over several lines.
    if (field == "uris") uris = uris " " $0
    else if (field == "suites") suites_field = suites_field " " $0
    else if (field == "types") types = types " " $0
    next
}
{
    colon = index($0, ":")
    if (colon == 0) next
    field = tolower(substr($0, 1, colon - 1))
    value = substr($0, colon + 1)
    gsub(/^[[:space:]]+|[[:space:]]+$/, "", value)
    if (field == "types") types = value
    else if (field == "uris") uris = value
    else if (field == "suites") suites_field = value
    else if (field == "enabled") enabled = value
}
END { if (format == "deb822" && !done) stanza_end() }
'

install_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return 0
    say "installing debootstrap with apt-get"
    if ! apt-get install -y -qq --no-install-recommends debootstrap >>"$LOG" 2>&1; then
        apt-get update -qq >>"$LOG" 2>&1
        apt-get install -y -qq --no-install-recommends debootstrap >>"$LOG" 2>&1
    fi
}

# Set up the mounts a command needs inside rootfs $1 (the caller makes them disappear:
# a private mount namespace, or cleanup_mounts in the fallback).
setup_mounts() {
    local root=$1
    shift
    mkdir -p "$root/proc" "$root/dev" "$root/tmp" "$root/run"
    mount -t proc proc "$root/proc" 2>/dev/null || mount --rbind /proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
    mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$root/run"
    local dir
    for dir in "$@"; do
        mkdir -p "$root$dir"
        mount --rbind "$dir" "$root$dir"
    done
}

MOUNTED_ROOT=
cleanup_mounts() {
    [ -n "$MOUNTED_ROOT" ] || return 0
    local m
    # Deepest first.
    awk -v d="$MOUNTED_ROOT" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
        sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    MOUNTED_ROOT=
}

# parse_run_args ARGS...: fills BINDS, ENVS, CWD, CMD.
parse_run_args() {
    BINDS=()
    ENVS=()
    CWD=/
    while [ $# -gt 0 ]; do
        case $1 in
        --bind)
            [ $# -ge 2 ] || die "--bind needs a directory"
            local d
            d=$(readlink -f "$2") || die "--bind $2: no such directory"
            [ -d "$d" ] || die "--bind $2: not a directory"
            [ "$d" != / ] || die "--bind /: not allowed"
            BINDS+=("$d")
            shift 2
            ;;
        --bind=*)
            set -- --bind "${1#--bind=}" "${@:2}"
            ;;
        --env)
            [ $# -ge 2 ] || die "--env needs NAME=VALUE"
            case $2 in *=*) ;; *) die "--env $2: expected NAME=VALUE" ;; esac
            ENVS+=("$2")
            shift 2
            ;;
        --cwd)
            [ $# -ge 2 ] || die "--cwd needs a directory"
            CWD=$2
            shift 2
            ;;
        --)
            shift
            break
            ;;
        -*) die "run: unknown option $1" ;;
        *) break ;;
        esac
    done
    [ $# -gt 0 ] || die "run: no command given"
    CMD=("$@")
}

exec_chroot() {
    local root=$1
    exec chroot "$root" /usr/bin/env -i PATH="$CHROOT_PATH" HOME=/root LANG=C.UTF-8 "${ENVS[@]}" \
        /bin/sh -c "$CD_EXEC" sh "$CWD" "${CMD[@]}"
}

# run_in ROOT ARGS...: run a command in ROOT (which must exist).
run_in() {
    local root=$1
    shift
    if have_unshare; then
        exec unshare --mount --propagation private "$SELF" __run-ns "$root" "$@"
    fi
    # Fallback without mount namespaces: mount in the host namespace, unmount on exit.
    parse_run_args "$@"
    MOUNTED_ROOT=$root
    trap cleanup_mounts EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    setup_mounts "$root" "${BINDS[@]}"
    local rc=0
    chroot "$root" /usr/bin/env -i PATH="$CHROOT_PATH" HOME=/root LANG=C.UTF-8 "${ENVS[@]}" \
        /bin/sh -c "$CD_EXEC" sh "$CWD" "${CMD[@]}" || rc=$?
    cleanup_mounts
    exit "$rc"
}

# Run a verification command in a subshell (run_in execs) and capture its output.
in_root() {
    local root=$1
    shift
    ("$SELF" __run-in "$root" -- "$@")
}

build() {
    need_root
    if [ -z "$MIRROR" ]; then
        MIRROR=$(find_mirror) || die "$NO_MIRROR"
    fi
    local parent
    parent=$(dirname "$ROOT")
    mkdir -p "$parent"
    LOG="$ROOT.build.log"
    exec 9>"$ROOT.lock"
    flock 9
    if is_ready; then
        exec 9>&-
        return 0
    fi
    local stale
    for stale in "$ROOT".tmp.* "$ROOT".old.*; do
        if [ -e "$stale" ]; then safe_rm "$stale"; fi
    done
    local tmp="$ROOT.tmp.$$" start=$SECONDS
    : >"$LOG"
    BUILD_TMP=$tmp
    trap 'build_failed' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    install_debootstrap
    say "building Debian $SUITE rootfs in $ROOT from $MIRROR (log: $LOG); this takes a few minutes"
    local -a dbs_args=(--variant=minbase --include="$PACKAGES" --components=main)
    if [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
        dbs_args+=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
    fi
    local cache="$parent/debs"
    mkdir -p "$cache"
    dbs_args+=(--cache-dir="$cache")
    dbs_args+=("$SUITE" "$tmp" "$MIRROR")
    # Old debootstrap releases lack a trixie script; sid's works for it.
    if [ ! -e "/usr/share/debootstrap/scripts/$SUITE" ]; then
        dbs_args+=(/usr/share/debootstrap/scripts/sid)
    fi
    # Its own mounts (proc, sys in the target) stay private even if it is killed.
    local -a ns=()
    if have_unshare; then ns=(unshare --mount --propagation private); fi
    # In its own process group, waited for with the (signal-interruptible) wait builtin:
    # debootstrap can hang after a Ctrl-C, so on INT/TERM we kill its whole group.
    setsid "${ns[@]}" debootstrap "${dbs_args[@]}" >>"$LOG" 2>&1 </dev/null &
    BUILD_PGID=$!
    wait "$BUILD_PGID"
    BUILD_PGID=

    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$tmp/etc/hosts"
    echo php-redis-sessions-test >"$tmp/etc/hostname"
    rm -rf "${tmp:?}"/var/cache/apt/archives/*.deb "${tmp:?}"/var/lib/apt/lists/*

    say "verifying"
    local php_v redis_v rs_v rc_v ossl_v
    php_v=$(in_root "$tmp" php -r 'echo PHP_VERSION;' 2>>"$LOG") || die "php does not run"
    redis_v=$(in_root "$tmp" php -r 'echo phpversion("redis");' 2>>"$LOG") || die "php -r failed"
    case $redis_v in 6.*) ;; *) die "phpredis is '$redis_v', want 6.x" ;; esac
    in_root "$tmp" php -r 'exit(in_array("tls", stream_get_transports()) ? 0 : 1);' 2>>"$LOG" ||
        die "PHP has no tls:// stream transport"
    rs_v=$(in_root "$tmp" redis-server --version 2>>"$LOG") || die "redis-server does not run"
    rc_v=$(in_root "$tmp" redis-cli --version 2>>"$LOG") || die "redis-cli does not run"
    ossl_v=$(in_root "$tmp" openssl version 2>>"$LOG") || die "openssl does not run"
    {
        echo "php -v:"
        in_root "$tmp" php -v
        echo "$rs_v"
    } >>"$LOG" 2>&1

    {
        echo "stamp=$STAMP"
        echo "php=$php_v"
        echo "phpredis=$redis_v"
        echo "redis-server=$rs_v"
        echo "redis-cli=$rc_v"
        echo "openssl=$ossl_v"
        echo "mirror=$MIRROR"
        echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - start))s"
    } >"$tmp/$MARKER"

    local old=
    if [ -e "$ROOT" ]; then
        old="$ROOT.old.$$"
        assert_no_mounts_below "$ROOT"
        mv "$ROOT" "$old"
    fi
    mv "$tmp" "$ROOT"
    BUILD_TMP=
    trap - EXIT INT TERM
    [ -z "$old" ] || safe_rm "$old"
    exec 9>&-
    say "ready in $((SECONDS - start))s: PHP $php_v, phpredis $redis_v, ${rs_v%% sha=*}"
}

BUILD_TMP=
BUILD_PGID=
kill_build_group() {
    [ -n "$BUILD_PGID" ] || return 0
    kill -TERM -- "-$BUILD_PGID" 2>/dev/null || return 0
    # Give it up to 5 s to exit (a zombie leader counts as gone), then kill the rest.
    local _
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        case $(awk '{ print $3 }' "/proc/$BUILD_PGID/stat" 2>/dev/null) in '' | Z) break ;; esac
        sleep 0.5
    done
    kill -KILL -- "-$BUILD_PGID" 2>/dev/null || true
    wait "$BUILD_PGID" 2>/dev/null || true
    BUILD_PGID=
}

build_failed() {
    local rc=$?
    trap - EXIT
    kill_build_group
    if [ -n "$BUILD_TMP" ]; then
        say "build failed (exit $rc); last lines of $LOG:"
        tail -n 40 "$LOG" >&2 || true
        safe_rm "$BUILD_TMP" || true
    fi
    exit "$rc"
}

main() {
    [ $# -gt 0 ] || die "usage: $0 ensure|path|mirror|run [--bind DIR]... [--env N=V]... [--cwd DIR] [--] CMD..."
    local sub=$1
    shift
    case $sub in
    # Not "is_ready || build": errexit is off inside a function called from a || list.
    ensure)
        if ! is_ready; then build; fi
        echo "$ROOT"
        ;;
    path)
        echo "$ROOT"
        ;;
    mirror)
        if [ -n "$MIRROR" ]; then
            echo "$MIRROR"
        else
            find_mirror || die "$NO_MIRROR"
        fi
        ;;
    run)
        need_root
        if ! is_ready; then build; fi
        run_in "$ROOT" "$@"
        ;;
    __run-in) # internal: run in an explicit root (used while verifying a build)
        run_in "$@"
        ;;
    __run-ns) # internal: inside the private mount namespace
        local root=$1
        shift
        parse_run_args "$@"
        setup_mounts "$root" "${BINDS[@]}"
        exec_chroot "$root"
        ;;
    -h | --help | help)
        sed -n '2,/^set -eu/p' "$SELF" | sed -e '$d' -e 's/^# \{0,1\}//'
        ;;
    *) die "unknown subcommand '$sub' (ensure, path, mirror, run)" ;;
    esac
}

main "$@"
