#!/usr/bin/env bash
# Packages the buildpack: one command for both platforms.
#
#   scripts/package.sh              writes dist/ and updates lib/checksums/ (a release)
#   scripts/package.sh --out DIR    writes DIR only (the tests use this)
#
# It builds the helper as a static x86_64 Linux executable (glibc, statically linked: no
# dynamic dependencies, so it runs on heroku-22, heroku-24 and their CNB images alike),
# refuses to go on if it is not, and writes:
#   DIR/php-redis-sessions-buildpack-VERSION/        bin/, lib/, buildpack.toml, README.md:
#                                                    `pack build --buildpack DIR/...`
#   DIR/php-redis-sessions-buildpack-VERSION.tgz     the same as a tarball, for
#                                                    `heroku buildpacks:add URL` and pack
#   DIR/php-redis-sessions-x86_64-linux              the helper alone: the release asset
#                                                    that a git clone of the buildpack
#   DIR/php-redis-sessions-x86_64-linux.sha256       downloads, and its checksum
# Without --out it also copies that checksum to
# lib/checksums/php-redis-sessions-VERSION-x86_64-linux.sha256: commit it with the release,
# then upload the helper as the release asset of tag vVERSION.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
# shellcheck source=lib/find-helper.sh
source lib/find-helper.sh

out=dist
release=yes
case "${1:-}" in
  '') ;;
  --out)
    out=${2:?usage: scripts/package.sh [--out DIR]}
    release=no
    ;;
  *)
    echo "usage: scripts/package.sh [--out DIR]" >&2
    exit 2
    ;;
esac

version=$(toml_string buildpack.toml buildpack version)
cargo_version=$(toml_string Cargo.toml package version)
if [ -z "$version" ] || [ "$version" != "$cargo_version" ]; then
  echo "package: buildpack.toml version ($version) and Cargo.toml version ($cargo_version) must be the same" >&2
  exit 1
fi

# musl: a static C library a fraction of glibc's size (the helper ships at about half the
# bytes) and quicker to start (glibc's static start-up runs its IFUNC relocations and
# tunables before main): the helper starts before every dyno process.
target=x86_64-unknown-linux-musl
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
  echo "package: the Rust target $target is not installed; run: rustup target add $target" >&2
  exit 1
fi
echo "==> Building the static helper v$version ($target)"
# --remap-path-prefix keeps this machine's paths out of the binary, so that the same
# sources, lock file and toolchain give the same bytes elsewhere.
# (CARGO_ENCODED_RUSTFLAGS: one flag per 0x1f-separated field, so paths may hold spaces.)
# relocation-model=static: a plain static executable rather than a static PIE, which
# would relocate itself at every start (the helper starts before every dyno process).
flags=(-Ctarget-feature=+crt-static -Crelocation-model=static -Cstrip=symbols "--remap-path-prefix=$repo=/build"
  "--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo")
encoded=$(printf '%s\x1f' "${flags[@]}")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! CARGO_ENCODED_RUSTFLAGS=${encoded%$'\x1f'} RUSTFLAGS='' \
  cargo build --profile dist --locked --quiet --target "$target" 2>"$log"; then
  cat "$log" >&2
  exit 1
fi
helper=$(realpath "${CARGO_TARGET_DIR:-target}/$target/dist/php-redis-sessions")

echo "==> Checking that it has no dynamic dependencies"
if readelf --dynamic "$helper" | grep -q '(NEEDED)' || readelf --program-headers "$helper" | grep -q 'INTERP'; then
  readelf --dynamic --program-headers "$helper" >&2
  echo "package: $helper is not static" >&2
  exit 1
fi
file "$helper" 2>/dev/null || true
# It runs, with no help from the system: detect on the example app.
if [ "$(env -i "$helper" detect "$repo/example")" != "PHP Redis Sessions" ]; then
  echo "package: the static helper does not run" >&2
  exit 1
fi

name=php-redis-sessions-buildpack-$version
mkdir -p "$out"
rm -rf "${out:?}/$name" "$out/$name.tgz"
mkdir -p "$out/$name/bin" "$out/$name/lib"
install -m 755 bin/detect bin/compile bin/release bin/build "$out/$name/bin/"
install -m 644 lib/find-helper.sh "$out/$name/lib/"
install -m 755 "$helper" "$out/$name/lib/php-redis-sessions"
install -m 644 buildpack.toml README.md "$out/$name/"
tar --create --gzip --file "$out/$name.tgz" --directory "$out/$name" \
  --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
  bin lib buildpack.toml README.md
install -m 755 "$helper" "$out/php-redis-sessions-x86_64-linux"
(cd "$out" && sha256sum php-redis-sessions-x86_64-linux >php-redis-sessions-x86_64-linux.sha256)

if [ "$release" = yes ]; then
  mkdir -p lib/checksums
  cp "$out/php-redis-sessions-x86_64-linux.sha256" "lib/checksums/php-redis-sessions-$version-x86_64-linux.sha256"
  echo "==> Updated lib/checksums/php-redis-sessions-$version-x86_64-linux.sha256: commit it, tag v$version," \
    "and upload $out/php-redis-sessions-x86_64-linux as that release's asset"
fi
echo "==> Packaged v$version:"
echo "    $out/$name/  (pack build --buildpack $out/$name)"
echo "    $out/$name.tgz  (heroku buildpacks:add <its URL>; pack build --buildpack $out/$name.tgz)"
echo "    $out/php-redis-sessions-x86_64-linux  $(cut -d' ' -f1 "$out/php-redis-sessions-x86_64-linux.sha256")"
