#!/bin/sh
# Install test (`npm run test:install`): what a service sees when it installs from the registry.
# Packs every package (the root and npm/<target>/), installs the root tarball plus this
# platform's tarball into an empty project in a temp folder, with a PATH that has no cargo or
# rustc, and runs the demo there against a Redis (REDIS_URL, 127.0.0.1:6379, or a private
# redis-server; scripts/with-redis.js). This platform's package must hold its binary first:
# `npm run build:all -- <target> && npm run artifacts`, or the release workflow's artifacts.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
target=$(node -e "process.stdout.write(require('$root/lib/platform').targetFor() || '')")
[ -n "$target" ] || { echo "install-test: no prebuilt target for this platform" >&2; exit 1; }
version=$(node -p "require('$root/package.json').version")
binary="$root/npm/$target/job-queue.$target.node"
[ -f "$binary" ] || { echo "install-test: $binary is missing (npm run build:all -- $target && npm run artifacts)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jq-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/packs" "$tmp/project"

echo "install-test: packing every package into $tmp/packs"
(cd "$root" && npm pack --silent --pack-destination "$tmp/packs" >/dev/null)
for dir in "$root"/npm/*/; do
  t=$(basename "$dir")
  (cd "$dir" && npm pack --silent --pack-destination "$tmp/packs" >/dev/null)
  [ -f "$dir/job-queue.$t.node" ] || echo "install-test: note: npm/$t has no binary yet (its tarball is empty)"
done
ls "$tmp/packs"

# A PATH without Rust: every entry that holds cargo or rustc is left out.
clean_path=
old_ifs=$IFS
IFS=:
for p in $PATH; do
  if [ -x "$p/cargo" ] || [ -x "$p/rustc" ]; then continue; fi
  clean_path="${clean_path:+$clean_path:}$p"
done
IFS=$old_ifs
if PATH="$clean_path" command -v cargo >/dev/null 2>&1; then
  echo "install-test: could not make a PATH without cargo" >&2
  exit 1
fi

cd "$tmp/project"
export PATH="$clean_path"
npm init -y >/dev/null
# The other platforms' packages are not published (or not for this machine): npm skips those
# optional dependencies; this platform's comes from its tarball.
npm install --no-audit --no-fund --loglevel=error \
  "$tmp/packs/shared-infra-job-queue-$version.tgz" "$tmp/packs/shared-infra-job-queue-$target-$version.tgz"

installed="node_modules/@shared-infra/job-queue-$target/job-queue.$target.node"
[ -f "$installed" ] || { echo "install-test: $installed was not installed" >&2; exit 1; }
if ls node_modules/@shared-infra/job-queue/*.node >/dev/null 2>&1; then
  echo "install-test: the root package carries a binary of its own" >&2
  exit 1
fi
echo "install-test: installed $(npm ls --all --parseable 2>/dev/null | grep -c node_modules) packages; engine from $installed"

# The demo, requiring the installed package instead of the checkout.
mkdir -p examples/photo-processing
for f in "$root"/examples/photo-processing/*.js; do
  sed "s#require('../..')#require('@shared-infra/job-queue')#" "$f" > "examples/photo-processing/$(basename "$f")"
done
if grep -q "require('../..')" examples/photo-processing/*.js; then
  echo "install-test: the demo still requires the checkout" >&2
  exit 1
fi
node -e "
  const p = require.resolve('@shared-infra/job-queue');
  if (!p.startsWith(process.cwd())) throw new Error('resolved ' + p + ' outside the project');
  require('@shared-infra/job-queue');
  console.log('install-test: loaded ' + p);
"
node "$root/scripts/with-redis.js" -- node examples/photo-processing/run.js
echo "install-test: the demo ran from the installed packages without cargo on PATH"
