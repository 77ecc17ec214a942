'use strict';
// `npm run build:all [-- target...]`: release-builds the engine for every platform of
// scripts/targets.js that this machine can build, one at a time, into artifacts/, inspects
// each binary (check-binaries.js), and ends with what it built and what it could not, and why.
// Exits 1 when a build it attempted failed or a binary breaks a rule; a target skipped for a
// missing toolchain is reported, not an error.
//
// Toolchains: rustup's targets (added on the way when missing), cargo-zigbuild + zig for Linux
// and macOS (`pip install ziglang cargo-zigbuild`), Debian's mingw-w64 for Windows. Cargo's
// build directory is CARGO_TARGET_DIR, else target-cross/ (apart from the native debug build).
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync, execFileSync } = require('node:child_process');
const { TARGETS, binaryName } = require('./targets');
const { checkBinary } = require('./check-binaries');

const root = path.join(__dirname, '..');
const outDir = path.join(root, 'artifacts');
const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target-cross');
const napi = path.join(root, 'node_modules', '.bin', 'napi');

const ok = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const memo = (f) => {
  let v;
  return () => (v === undefined ? (v = f()) : v);
};

const zigReady = memo(() => {
  if (!ok('cargo', ['zigbuild', '--help'])) return 'cargo-zigbuild is not installed (pip install cargo-zigbuild)';
  if (!ok('zig', ['version']) && !ok('python3', ['-m', 'ziglang', 'version'])) return 'zig is not installed (pip install ziglang)';
  return null;
});
const installedTargets = memo(() => {
  try {
    return execFileSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' }).split('\n');
  } catch {
    return [];
  }
});

/** Why this machine cannot build t, or null when it can. */
function missingToolchain(t) {
  if (!installedTargets().includes(t.rust) && !ok('rustup', ['target', 'add', t.rust])) {
    return `the Rust target ${t.rust} is missing and \`rustup target add ${t.rust}\` failed`;
  }
  if (t.how === 'zig' && !(t.os === 'darwin' && process.platform === 'darwin')) return zigReady();
  if (t.how === 'mingw' && !ok('x86_64-w64-mingw32-gcc', ['--version'])) {
    return 'no MinGW-w64 compiler (apt-get install mingw-w64)';
  }
  return null;
}

/**
 * Link stubs for Apple's frameworks: there is no macOS SDK here, and zig ships libSystem only.
 * Each stub (a .tbd, the SDK's own format) names the framework's install path and the symbols
 * we use (darwin-stubs/frameworks.txt), so the dylib binds them to the framework as an SDK
 * build would. Returns the directory to pass as -F.
 */
function darwinStubs() {
  const dir = path.join(targetDir, 'darwin-stubs');
  const byFramework = new Map();
  for (const line of fs.readFileSync(path.join(__dirname, 'darwin-stubs', 'frameworks.txt'), 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [fw, sym] = line.trim().split(/\s+/);
    if (!byFramework.has(fw)) byFramework.set(fw, []);
    byFramework.get(fw).push(sym);
  }
  for (const [fw, syms] of byFramework) {
    fs.mkdirSync(path.join(dir, `${fw}.framework`), { recursive: true });
    const tbd = [
      '--- !tapi-tbd',
      'tbd-version:     4',
      'targets:         [ x86_64-macos, arm64-macos ]',
      `install-name:    '/System/Library/Frameworks/${fw}.framework/Versions/A/${fw}'`,
      'exports:',
      '  - targets:         [ x86_64-macos, arm64-macos ]',
      `    symbols:         [ ${syms.join(',\n                       ')} ]`,
      '...',
      '',
    ].join('\n');
    fs.writeFileSync(path.join(dir, `${fw}.framework`, `${fw}.tbd`), tbd);
  }
  return dir;
}

/**
 * napi-build links a windows-gnu addon against MSYS2 Node's libnode.dll and stops when it finds
 * none. Our Windows build takes Node's functions from the running node.exe instead (napi's
 * dyn-symbols, Cargo.toml), so it uses nothing of that library: an empty DLL of that name lets
 * the link go through, and check-binaries.js makes sure the addon imports no libnode.dll.
 * Returns the directory to pass as LIBNODE_PATH.
 */
function libnodeStub() {
  const dir = path.join(targetDir, 'libnode-stub');
  fs.mkdirSync(dir, { recursive: true });
  const src = path.join(dir, 'libnode-stub.c');
  fs.writeFileSync(src, '/* link stub: the addon takes Node-API from the running node.exe */\nint libnode_stub;\n');
  execFileSync('x86_64-w64-mingw32-gcc', ['-shared', '-o', path.join(dir, 'libnode.dll'), src]);
  return dir;
}

function build(t) {
  const args = ['build', '--platform', '--release', '--no-js', '--dts', 'binding.d.ts', '--output-dir', outDir,
    '--target-dir', targetDir];
  const env = { ...process.env };
  if (t.os === 'darwin' && process.platform === 'darwin') {
    args.push('--target', t.rust); // on a Mac: Apple's own toolchain and SDK
  } else if (t.how === 'zig') {
    args.push('--target', t.glibc ? `${t.rust}.${t.glibc}` : t.rust, '--cross-compile');
  } else {
    args.push('--target', t.rust);
  }
  if (t.os === 'win32' && t.how === 'mingw' && !env.LIBNODE_PATH) env.LIBNODE_PATH = libnodeStub();
  if (t.os === 'darwin') {
    env.MACOSX_DEPLOYMENT_TARGET = t.minOs;
    if (process.platform !== 'darwin' && !env.SDKROOT) {
      const key = `CARGO_TARGET_${t.rust.toUpperCase().replace(/-/g, '_')}_RUSTFLAGS`;
      env[key] = `${env[key] ?? ''} -C link-arg=-F${darwinStubs()}`.trim();
    }
  }
  console.log(`\n=== ${t.name}: napi ${args.join(' ')}`);
  const started = Date.now();
  const r = spawnSync(napi, args, { cwd: root, env, stdio: 'inherit' });
  const secs = Math.round((Date.now() - started) / 1000);
  if (r.status !== 0) return { error: `the build failed (exit ${r.status ?? r.signal}) after ${secs} s` };
  return { secs };
}

function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !TARGETS.some((t) => t.name === w));
  if (unknown.length) {
    console.error(`build-all: unknown target ${unknown.join(', ')}; known: ${TARGETS.map((t) => t.name).join(', ')}`);
    process.exit(2);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const report = [];
  for (const t of TARGETS.filter((x) => !wanted.length || wanted.includes(x.name))) {
    const missing = missingToolchain(t);
    if (missing) {
      report.push({ t, status: 'not built', detail: missing });
      continue;
    }
    const file = path.join(outDir, binaryName(t));
    fs.rmSync(file, { force: true });
    const r = build(t);
    if (r.error || !fs.existsSync(file)) {
      report.push({ t, status: 'FAILED', detail: r.error ?? `no ${binaryName(t)} was written` });
      continue;
    }
    const { problems, facts } = checkBinary(t, file);
    report.push({
      t,
      status: problems.length ? 'BAD BINARY' : 'built',
      detail: [`${(fs.statSync(file).size / 1048576).toFixed(1)} MiB in ${r.secs} s`, ...facts, ...problems.map((p) => `problem: ${p}`)].join('\n    '),
    });
  }
  console.log('\nbuild-all: summary');
  for (const { t, status, detail } of report) console.log(`  ${t.name.padEnd(17)} ${status}: ${detail}`);
  const notBuilt = report.filter((r) => r.status === 'not built');
  if (notBuilt.length) console.log(`build-all: could not build ${notBuilt.map((r) => r.t.name).join(', ')} here (see above)`);
  process.exitCode = report.some((r) => r.status === 'FAILED' || r.status === 'BAD BINARY') ? 1 : 0;
}

main();
