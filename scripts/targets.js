'use strict';
// The platforms we ship a prebuilt engine for: one npm package each (npm/<name>/), listed in
// the root's optionalDependencies and in package.json's napi.targets. binding.js picks among
// them at run time; build-all.js, check-binaries.js and prepublish-check.js read this table.
//
// how:      'zig'   cargo-zigbuild with zig as C compiler and linker (`napi build -x`);
//                   glibc targets carry zig's glibc floor (`.2.17`, what the napi-rs template's
//                   `--use-napi-cross` toolchain links against)
//           'mingw' Debian's mingw-w64 (x86_64-w64-mingw32-gcc), plain `napi build`
// runner:   the GitHub Actions runner the release workflow builds (or tests) it on
// minOs:    the oldest OS a binary may ask for (macOS deployment target)

const TARGETS = [
  { name: 'linux-x64-gnu', rust: 'x86_64-unknown-linux-gnu', os: 'linux', cpu: 'x64', libc: 'glibc', how: 'zig', glibc: '2.17' },
  { name: 'linux-x64-musl', rust: 'x86_64-unknown-linux-musl', os: 'linux', cpu: 'x64', libc: 'musl', how: 'zig' },
  { name: 'linux-arm64-gnu', rust: 'aarch64-unknown-linux-gnu', os: 'linux', cpu: 'arm64', libc: 'glibc', how: 'zig', glibc: '2.17' },
  { name: 'linux-arm64-musl', rust: 'aarch64-unknown-linux-musl', os: 'linux', cpu: 'arm64', libc: 'musl', how: 'zig' },
  { name: 'darwin-x64', rust: 'x86_64-apple-darwin', os: 'darwin', cpu: 'x64', how: 'zig', minOs: '10.15' },
  { name: 'darwin-arm64', rust: 'aarch64-apple-darwin', os: 'darwin', cpu: 'arm64', how: 'zig', minOs: '11.0' },
  { name: 'win32-x64-gnu', rust: 'x86_64-pc-windows-gnu', os: 'win32', cpu: 'x64', how: 'mingw' },
];

const PACKAGE_SCOPE = '@shared-infra/job-queue';

/** The npm package of a target (`@shared-infra/job-queue-linux-x64-gnu`). */
const packageName = (t) => `${PACKAGE_SCOPE}-${t.name}`;
/** The binary's file name (`job-queue.linux-x64-gnu.node`), as napi build --platform names it. */
const binaryName = (t) => `job-queue.${t.name}.node`;

module.exports = { TARGETS, packageName, binaryName };
