#!/bin/sh
# Runs the smoke test (scripts/smoke.js) on a binary this machine cannot load natively, laid out
# as npm installs it (node_modules/@shared-infra/job-queue + the platform package), so the
# loader's own choice is tested too. Needs a Redis on 127.0.0.1:6379 (or REDIS_URL) and root.
#
#   sh scripts/foreign-smoke.sh linux-arm64-gnu   # Debian's nodejs:arm64 under qemu-user
#   sh scripts/foreign-smoke.sh linux-x64-musl    # a musl-linked runtime in a root with no glibc
#
# linux-arm64-gnu: Debian's nodejs:arm64 and its libraries are downloaded with apt-get and
#   unpacked into a private root (JQ_ARM64_ROOT), not installed: the host's nodejs package is
#   not Multi-Arch: same, so installing nodejs:arm64 would remove it. Needs
#   `dpkg --add-architecture arm64 && apt-get update` and `apt-get install qemu-user-static`.
# linux-x64-musl: no musl build of Node is reachable from here (the unofficial musl builds are
#   not on a registry we reach), so the runtime is Bun's musl build from npm
#   (@oven/bun-linux-x64-musl-baseline), which loads N-API addons. It needs musl 1.2.4+ (it uses
#   packed relocations; Debian 12's musl is 1.2.3), taken from Debian 13's musl package through
#   a private apt configuration, and a musl libstdc++/libgcc_s, taken from numpy's musllinux
#   wheel. All of it goes into a root (JQ_MUSL_ROOT) holding no glibc at all, with Alpine's
#   /usr/bin/ldd so the loader sees musl, and the test runs there under chroot.
set -eu
target=${1:?usage: foreign-smoke.sh linux-arm64-gnu|linux-x64-musl}
repo=$(cd "$(dirname "$0")/.." && pwd)
binary="$repo/artifacts/job-queue.$target.node"
[ -f "$binary" ] || binary="$repo/npm/$target/job-queue.$target.node"
[ -f "$binary" ] || { echo "foreign-smoke: no job-queue.$target.node in artifacts/ or npm/$target/ (npm run build:all -- $target)" >&2; exit 1; }

# The app: the root package's published files and the platform package, under $1/app.
lay_out_app() {
  app="$1/app"
  rm -rf "$app"
  mkdir -p "$app/node_modules/@shared-infra/job-queue" "$app/node_modules/@shared-infra/job-queue-$target" "$app/scripts"
  (cd "$repo" && cp -r index.js binding.js lib package.json "$app/node_modules/@shared-infra/job-queue/")
  cp "$repo/npm/$target/package.json" "$binary" "$app/node_modules/@shared-infra/job-queue-$target/"
  cp "$repo/scripts/smoke.js" "$app/scripts/"
}

case "$target" in
linux-arm64-gnu)
  root=${JQ_ARM64_ROOT:-/tmp/jq-arm64-node}
  command -v qemu-aarch64-static >/dev/null || { echo "foreign-smoke: apt-get install qemu-user-static" >&2; exit 1; }
  if [ ! -x "$root/usr/bin/node" ]; then
    dpkg --print-foreign-architectures | grep -qx arm64 || { echo "foreign-smoke: dpkg --add-architecture arm64 && apt-get update" >&2; exit 1; }
    debs=$(mktemp -d)
    pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
      --no-enhances nodejs:arm64 | grep -E '^[a-z0-9].*:arm64$' | grep -vE '^(dpkg|install-info|tar|openssl):' | sort -u)
    # libnode's JavaScript dependencies are architecture-independent packages
    (cd "$debs" && apt-get download $pkgs node-acorn node-cjs-module-lexer node-undici)
    mkdir -p "$root"
    for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$root"; done
    rm -rf "$debs"
  fi
  lay_out_app "$root"
  cd "$root/app"
  SMOKE_TIMEOUT_MS=300000 qemu-aarch64-static -L "$root" "$root/usr/bin/node" scripts/smoke.js @shared-infra/job-queue
  ;;
linux-x64-musl)
  root=${JQ_MUSL_ROOT:-/tmp/jq-musl-root}
  if [ ! -x "$root/usr/bin/bun" ]; then
    work=$(mktemp -d)
    (cd "$work" && npm pack --silent @oven/bun-linux-x64-musl-baseline >/dev/null && tar xzf oven-bun-*.tgz)
    apt_dir="$work/apt"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    echo "deb http://deb.debian.org/debian trixie main" > "$apt_dir/sources.list"
    touch "$apt_dir/status"
    set -- -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
      -o Dir::State::Lists="$apt_dir/lists" -o Dir::State::Status="$apt_dir/status" -o Dir::Cache="$apt_dir/cache"
    apt-get "$@" update >/dev/null
    (cd "$work" && apt-get "$@" download musl && dpkg-deb -x musl_*.deb musl)
    python3 -m pip download --quiet --only-binary=:all: --platform musllinux_1_2_x86_64 --python-version 3.11 \
      --no-deps numpy -d "$work/wheels"
    mkdir -p "$root/lib" "$root/usr/lib" "$root/usr/bin" "$root/etc" "$root/dev" "$root/proc" "$root/tmp"
    cp "$work/musl/usr/lib/x86_64-linux-musl/libc.so" "$root/lib/ld-musl-x86_64.so.1"
    python3 - "$work"/wheels/numpy-*.whl "$root/usr/lib" <<'EOF'
import sys, zipfile, os
wheel, dest = sys.argv[1], sys.argv[2]
for name in zipfile.ZipFile(wheel).namelist():
    base = os.path.basename(name)
    if base.startswith(('libstdc++', 'libgcc_s')):
        open(os.path.join(dest, base), 'wb').write(zipfile.ZipFile(wheel).read(name))
        if base.startswith('libstdc++'):
            open(os.path.join(dest, 'libstdc++.so.6'), 'wb').write(zipfile.ZipFile(wheel).read(name))
EOF
    cp "$work/package/bin/bun" "$root/usr/bin/bun"
    printf '#!/bin/sh\nexec /lib/ld-musl-x86_64.so.1 --list "$@"\n' > "$root/usr/bin/ldd" # Alpine's ldd
    echo "/lib:/usr/lib" > "$root/etc/ld-musl-x86_64.path"
    rm -rf "$work"
  fi
  if find "$root" -name 'libc.so.6' -o -name 'ld-linux-*' | grep -q .; then
    echo "foreign-smoke: $root holds glibc" >&2
    exit 1
  fi
  lay_out_app "$root"
  mount --bind /dev "$root/dev"
  mount --bind /proc "$root/proc"
  trap 'umount "$root/proc"; umount "$root/dev"' EXIT
  chroot "$root" /usr/bin/bun /app/scripts/smoke.js @shared-infra/job-queue
  ;;
*)
  echo "foreign-smoke: $target is not one of linux-arm64-gnu, linux-x64-musl" >&2
  exit 2
  ;;
esac
