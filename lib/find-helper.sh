# shellcheck shell=bash
# Sourced by the bin/ scripts. `find_helper BP_DIR` prints the path of the php-redis-sessions
# helper, or says on stderr why there is none and returns 1. Where it looks, in order:
#  1. lib/php-redis-sessions: a packaged buildpack (scripts/package.sh) ships it there, and
#     step 3 leaves it there for the next phase;
#  2. target/release/php-redis-sessions: a source checkout after `cargo build --release`;
#  3. a plain git clone (`heroku buildpacks:add https://github.com/...`, the buildpack
#     registry) has neither and no Rust toolchain, so it downloads the release helper for the
#     version in buildpack.toml from PHP_REDIS_SESSIONS_HELPER_URL or else buildpack.toml's
#     [metadata] helper-url ({version} is replaced in both), and checks its sha256 against
#     lib/checksums/php-redis-sessions-VERSION-x86_64-linux.sha256. A wrong checksum is
#     final: the file is deleted unrun and nothing else is tried;
#  4. if the download fails and cargo is on PATH, it builds the helper;
#  5. otherwise it fails, saying what to do.
# The download is checked by its sha256 alone, so plain http:// mirrors are fine too.
# These lines are the only user-facing text outside src/messages.rs, because they are printed
# when there is no helper to print them; tests/e2e/helper_download.rs snapshots them.

# No global variables: this file is sourced into the bin/ scripts, whose environment holds
# the user's variables under the CNB lifecycle (PHP_REDIS_SESSIONS_URL_VAR, for one, is a
# setting of this buildpack), and an assignment here would change what every child sees.

find_helper() {
  local bp_dir=$1 candidate status=0
  for candidate in "$bp_dir/lib/php-redis-sessions" "$bp_dir/target/release/php-redis-sessions"; do
    if [ -x "$candidate" ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  fetch_helper "$bp_dir" || status=$?
  case $status in
    0) return 0 ;;
    2) return 1 ;;
  esac
  if command -v cargo >/dev/null 2>&1; then
    build_helper "$bp_dir"
    return
  fi
  echo "PHP Redis Sessions: the helper binary is missing, could not be downloaded, and cargo is not installed to build it;" \
    "add the buildpack by the URL of a packaged release (a .tgz), set the config var PHP_REDIS_SESSIONS_HELPER_URL" \
    "to where the helper can be downloaded, or run \`cargo build --release\` in the buildpack's directory" >&2
  return 1
}

# Downloads and checks the helper. Prints its path; returns 1 when it could not be
# downloaded (another way may be tried) and 2 when the download is not the released helper.
fetch_helper() {
  local bp_dir=$1 version url origin shown sums expected='' dest_dir tmp http_status code actual
  version=$(toml_string "$bp_dir/buildpack.toml" buildpack version)
  if [ -z "$version" ]; then
    echo "PHP Redis Sessions: $bp_dir/buildpack.toml has no [buildpack] version, so no helper can be downloaded" >&2
    return 1
  fi
  if [ "$(uname -m)" != x86_64 ]; then
    echo "PHP Redis Sessions: there is no prebuilt helper for $(uname -m), only for x86_64" >&2
    return 1
  fi
  if [ -n "${PHP_REDIS_SESSIONS_HELPER_URL:-}" ]; then
    url=$PHP_REDIS_SESSIONS_HELPER_URL
    origin="the URL in PHP_REDIS_SESSIONS_HELPER_URL"
  else
    url=$(toml_string "$bp_dir/buildpack.toml" metadata helper-url)
    origin="buildpack.toml's helper-url"
  fi
  url=${url//\{version\}/$version}
  # Nothing of a URL that does not parse strictly: a password may have spilled out of it.
  if ! shown=$(display_url "$url"); then
    shown="($origin)"
  fi
  sums=lib/checksums/php-redis-sessions-$version-x86_64-linux.sha256
  if [ -f "$bp_dir/$sums" ]; then
    read -r expected _ <"$bp_dir/$sums" || true
  fi
  if ! [[ $expected =~ ^[0-9a-f]{64}$ ]]; then
    echo "PHP Redis Sessions: $sums is missing or holds no sha256, so the v$version helper cannot be checked and is not downloaded;" \
      "use a release of the buildpack (a git tag or a packaged .tgz)" >&2
    return 1
  fi
  if ! command -v curl >/dev/null 2>&1 || ! command -v sha256sum >/dev/null 2>&1; then
    echo "PHP Redis Sessions: curl and sha256sum are needed to download the helper" >&2
    return 1
  fi
  if [ -w "$bp_dir/lib" ]; then
    dest_dir=$bp_dir/lib
  else
    dest_dir=$(mktemp -d)
  fi
  tmp=$(mktemp "$dest_dir/.php-redis-sessions.download.XXXXXX")
  echo "PHP Redis Sessions: downloading the helper v$version from $shown" >&2
  # The URL goes to curl on its standard input, as a line of a config file (`--config -`),
  # not on its command line, which every user of the machine can read (ps,
  # /proc/PID/cmdline). -q (first) skips ~/.curlrc; --globoff keeps `{}` and `[]` literal.
  # curl's own messages can quote the URL, so they are thrown away, and its exit code is
  # told in words of our own.
  if http_status=$(printf 'url = "%s"\n' "$(curl_config_quote "$url")" |
    curl -q --config - --globoff --fail --silent --location --retry 3 --connect-timeout 10 --max-time 300 \
      --write-out '%{http_code}' --output "$tmp" 2>/dev/null); then
    code=0
  else
    code=$?
  fi
  if [ "$code" != 0 ]; then
    rm -f "$tmp"
    echo "PHP Redis Sessions: could not download the helper from $shown: $(download_failure "$code" "$http_status")" >&2
    return 1
  fi
  # From stdin: given a name with a backslash or newline, sha256sum escapes it and puts a
  # `\` before the sum.
  actual=$(sha256sum <"$tmp")
  actual=${actual%% *}
  if [ "$actual" != "$expected" ]; then
    rm -f "$tmp"
    echo "PHP Redis Sessions: the file downloaded from $shown has sha256 $actual, but $sums says $expected;" \
      "it is not the v$version helper, so it was deleted without being run; point PHP_REDIS_SESSIONS_HELPER_URL" \
      "at the v$version release asset, or add the buildpack by the URL of a packaged release" >&2
    return 2
  fi
  chmod 755 "$tmp"
  mv -f "$tmp" "$dest_dir/php-redis-sessions"
  printf '%s\n' "$dest_dir/php-redis-sessions"
}

# Builds the helper from this checkout's sources with cargo; prints its path.
build_helper() {
  local bp_dir=$1 target_dir
  if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    target_dir=$CARGO_TARGET_DIR
  elif [ -w "$bp_dir" ]; then
    target_dir=$bp_dir/target
  else
    target_dir=$(mktemp -d)
  fi
  echo "PHP Redis Sessions: building the helper with cargo, which takes a minute or two" >&2
  if ! cargo build --release --locked --quiet --manifest-path "$bp_dir/Cargo.toml" --target-dir "$target_dir" >&2 ||
    ! [ -x "$target_dir/release/php-redis-sessions" ]; then
    echo "PHP Redis Sessions: cargo could not build the helper (see above); add the buildpack by the URL" \
      "of a packaged release instead" >&2
    return 1
  fi
  printf '%s\n' "$target_dir/release/php-redis-sessions"
}

# `display_url URL`: what the log may show of a download URL, `scheme://host[:port]`, if
# the URL parses strictly: a scheme of letters, `://`, the authority up to the first `/`,
# `?` or `#`, its user info removed up to the last `@`, then a host of DNS characters or a
# bracketed IPv6 address and an optional decimal port. Prints nothing and returns 1
# otherwise, and when an `@` comes after the authority: a raw `/`, `?` or `#` in a
# password ends the authority early, and the rest of the password follows it. The
# characters are listed, not given as ranges, which some locales stretch.
display_url() {
  local letters=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz digits=0123456789
  local scheme authority rest
  [[ $1 =~ ^([$letters]+)://([^/?#]*)(.*)$ ]] || return 1
  scheme=${BASH_REMATCH[1]}
  authority=${BASH_REMATCH[2]##*@}
  rest=${BASH_REMATCH[3]}
  [[ $rest != *@* ]] || return 1
  [[ $authority =~ ^([$letters$digits.-]+|\[[${digits}ABCDEFabcdef:.]+\])(:[$digits]+)?$ ]] || return 1
  printf '%s://%s\n' "$scheme" "$authority"
}

# `curl_config_quote VALUE`: VALUE for the inside of a double-quoted string in a curl
# config file, where `\\`, `\"`, `\n`, `\r`, `\t` and `\v` are the escapes (curl(1),
# --config). A raw line break would end the line, and the rest would be read as options.
curl_config_quote() {
  local value=$1 bs=\\
  value=${value//"$bs"/"$bs$bs"}
  value=${value//\"/"$bs\""}
  value=${value//$'\n'/"${bs}n"}
  value=${value//$'\r'/"${bs}r"}
  value=${value//$'\t'/"${bs}t"}
  value=${value//$'\v'/"${bs}v"}
  printf '%s' "$value"
}

# `download_failure CURL_EXIT HTTP_STATUS`: why curl failed, in fixed words (curl's own
# messages can quote the host or the URL).
download_failure() {
  local status=$2
  [[ $status =~ ^[0-9]{3}$ ]] || status=unknown
  case $1 in
    3) echo "the URL is malformed (curl exit 3)" ;;
    6) echo "the host was not found (curl exit 6)" ;;
    7) echo "could not connect to the host (curl exit 7)" ;;
    22) echo "the server answered with HTTP status $status (curl exit 22)" ;;
    28) echo "the download timed out (curl exit 28)" ;;
    35) echo "the TLS handshake failed (curl exit 35)" ;;
    60) echo "the server's TLS certificate could not be verified (curl exit 60)" ;;
    *) echo "curl exit $1" ;;
  esac
}

# `toml_string FILE TABLE KEY`: the basic-string value of KEY in [TABLE]. Enough for this
# buildpack's own buildpack.toml (tests/e2e/helper_download.rs checks it against a TOML parser).
toml_string() {
  [ -f "$1" ] || return 0
  awk -v table="$2" -v key="$3" '
    /^[[:space:]]*\[/ {
      header = $0
      sub(/[[:space:]]*(#.*)?$/, "", header)
      in_table = (header ~ "^[[:space:]]*\\[[[:space:]]*" table "[[:space:]]*\\]$")
      next
    }
    in_table && match($0, "^[[:space:]]*" key "[[:space:]]*=[[:space:]]*\"") {
      value = substr($0, RLENGTH + 1)
      sub(/"[[:space:]]*(#.*)?$/, "", value)
      print value
      exit
    }
  ' "$1"
}

# `load_config_var NAME DIR`: exports NAME from DIR/NAME (Heroku's ENV_DIR, or the CNB
# platform's env/ directory) when that file exists.
load_config_var() {
  local name=$1 dir=$2 value
  if [ -n "$dir" ] && [ -f "$dir/$name" ]; then
    value=$(<"$dir/$name")
    export "$name=$value"
  fi
}
