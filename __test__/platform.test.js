'use strict';
// Prebuilt engines: the loader picks the package of this platform (glibc vs musl), names the
// package when it is missing; the platform packages, optionalDependencies and napi.targets
// agree with scripts/targets.js; the prepublish check refuses packages without binaries; the
// binary checker reads what a real binary links (and that it links no OpenSSL).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const platform = require('../lib/platform');
const { TARGETS, packageName, binaryName } = require('../scripts/targets');
const { problems } = require('../scripts/prepublish-check');
const { checkBinary } = require('../scripts/check-binaries');

const root = path.join(__dirname, '..');
const rootPkg = require('../package.json');

function tmpdir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jq-platform-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('each platform, cpu and C library maps to its package, and unsupported ones to none', () => {
  const cases = [
    ['linux', 'x64', false, 'linux-x64-gnu'],
    ['linux', 'x64', true, 'linux-x64-musl'],
    ['linux', 'arm64', false, 'linux-arm64-gnu'],
    ['linux', 'arm64', true, 'linux-arm64-musl'],
    ['darwin', 'x64', false, 'darwin-x64'],
    ['darwin', 'arm64', false, 'darwin-arm64'],
    ['win32', 'x64', false, 'win32-x64-gnu'],
    ['linux', 'ia32', false, null],
    ['linux', 'arm', true, null],
    ['win32', 'arm64', false, null],
    ['freebsd', 'x64', false, null],
  ];
  for (const [p, arch, musl, want] of cases) {
    assert.strictEqual(platform.targetFor(p, arch, musl), want, `${p} ${arch} musl=${musl}`);
  }
  assert.strictEqual(platform.packageFor('linux-x64-musl'), '@shared-infra/job-queue-linux-x64-musl');
});

test('musl is detected as the template does: this glibc machine is not musl', () => {
  const glibc = process.report.getReport().header.glibcVersionRuntime;
  assert.strictEqual(platform.isMusl(), !glibc);
  assert.strictEqual(platform.targetFor(), `${process.platform}-${process.arch}-${glibc ? 'gnu' : 'musl'}`);
});

test('the loader prefers a local build, then the platform package; a missing package is named', (t) => {
  const dir = tmpdir(t);
  const asked = [];
  const requireFn = (id) => {
    asked.push(id);
    if (id.endsWith('.node')) return { local: true };
    const e = new Error(`Cannot find module '${id}'`);
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  };
  fs.writeFileSync(path.join(dir, 'job-queue.linux-arm64-musl.node'), '');
  assert.deepStrictEqual(platform.loadNative({ dir, target: 'linux-arm64-musl', requireFn }), { local: true });
  assert.deepStrictEqual(asked, [path.join(dir, 'job-queue.linux-arm64-musl.node')]);

  asked.length = 0;
  assert.throws(() => platform.loadNative({ dir, target: 'darwin-arm64', requireFn }), (e) => {
    assert.strictEqual(e.code, 'ERR_JOB_QUEUE_NATIVE');
    assert.match(e.message, /package @shared-infra\/job-queue-darwin-arm64, which is not installed/);
    assert.match(e.message, /npm install @shared-infra\/job-queue-darwin-arm64/);
    return true;
  });
  assert.deepStrictEqual(asked, ['@shared-infra/job-queue-darwin-arm64']);

  assert.throws(() => platform.loadNative({ dir, target: null, requireFn }), /no prebuilt engine for .*prebuilt ones: linux-x64-gnu, linux-x64-musl/);
});

test('a platform package that is there but fails to load is reported with its own error', (t) => {
  const dir = tmpdir(t);
  const requireFn = () => {
    throw new Error('invalid ELF header');
  };
  assert.throws(() => platform.loadNative({ dir, target: 'linux-x64-musl', requireFn }),
    /could not load its engine @shared-infra\/job-queue-linux-x64-musl on .*: invalid ELF header/);
});

test('NAPI_RS_NATIVE_LIBRARY_PATH overrides the choice', (t) => {
  const saved = process.env.NAPI_RS_NATIVE_LIBRARY_PATH;
  t.after(() => (saved === undefined ? delete process.env.NAPI_RS_NATIVE_LIBRARY_PATH : (process.env.NAPI_RS_NATIVE_LIBRARY_PATH = saved)));
  process.env.NAPI_RS_NATIVE_LIBRARY_PATH = '/some/where/engine.node';
  const asked = [];
  platform.loadNative({ target: 'linux-x64-gnu', requireFn: (id) => asked.push(id) && { override: true } });
  assert.deepStrictEqual(asked, ['/some/where/engine.node']);
});

test('targets, platform packages, optionalDependencies and napi.targets agree', () => {
  assert.deepStrictEqual(platform.TARGETS, TARGETS.map((t) => t.name), 'lib/platform.js and scripts/targets.js');
  assert.deepStrictEqual(rootPkg.napi.targets, TARGETS.map((t) => t.rust));
  assert.deepStrictEqual(rootPkg.optionalDependencies, Object.fromEntries(TARGETS.map((t) => [packageName(t), rootPkg.version])));
  assert.deepStrictEqual(fs.readdirSync(path.join(root, 'npm')).sort(), TARGETS.map((t) => t.name).sort());
  for (const t of TARGETS) {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'npm', t.name, 'package.json'), 'utf8'));
    assert.strictEqual(pkg.name, packageName(t));
    assert.strictEqual(pkg.version, rootPkg.version, t.name);
    assert.deepStrictEqual([pkg.os, pkg.cpu, pkg.libc], [[t.os], [t.cpu], t.libc ? [t.libc] : undefined], t.name);
    assert.strictEqual(pkg.main, binaryName(t));
    assert.deepStrictEqual(pkg.files, [binaryName(t)]);
  }
  assert.ok(rootPkg.files.includes('lib/') && rootPkg.files.includes('binding.js'), 'the loader is published');
  assert.ok(!rootPkg.files.some((f) => f.includes('npm') || f.endsWith('.node')), 'the root package carries no binary');
});

/** A copy of npm/ (package.json files only) in a temp folder. */
function copyNpmDir(dir) {
  for (const t of TARGETS) {
    fs.mkdirSync(path.join(dir, t.name));
    fs.copyFileSync(path.join(root, 'npm', t.name, 'package.json'), path.join(dir, t.name, 'package.json'));
  }
}

const MAGIC = { linux: Buffer.from('\x7fELF', 'latin1'), darwin: Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), win32: Buffer.from('MZ\x90\x00', 'latin1') };

test('the prepublish check refuses platform packages without their binaries', (t) => {
  const dir = tmpdir(t);
  copyNpmDir(dir);
  const missing = problems(dir);
  assert.strictEqual(missing.length, TARGETS.length, missing.join('\n'));
  for (const tg of TARGETS) assert.ok(missing.some((p) => p.startsWith(`${tg.name}: no binary`)), tg.name);

  const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'prepublish-check.js'), dir], { encoding: 'utf8' });
  assert.strictEqual(run.status, 1);
  assert.match(run.stderr, /not publishing @shared-infra\/job-queue/);

  for (const tg of TARGETS) fs.writeFileSync(path.join(dir, tg.name, binaryName(tg)), MAGIC[tg.os]);
  assert.deepStrictEqual(problems(dir), []);
  assert.strictEqual(spawnSync(process.execPath, [path.join(root, 'scripts', 'prepublish-check.js'), dir]).status, 0);

  fs.writeFileSync(path.join(dir, 'darwin-arm64', 'job-queue.darwin-arm64.node'), MAGIC.linux);
  assert.deepStrictEqual(problems(dir), [`darwin-arm64: ${path.join(dir, 'darwin-arm64', 'job-queue.darwin-arm64.node')} is not a darwin binary`]);
});

test('the prepublish check refuses a platform package at another version', (t) => {
  const dir = tmpdir(t);
  copyNpmDir(dir);
  for (const tg of TARGETS) fs.writeFileSync(path.join(dir, tg.name, binaryName(tg)), MAGIC[tg.os]);
  const file = path.join(dir, 'linux-x64-musl', 'package.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), version: '9.9.9' }));
  assert.deepStrictEqual(problems(dir), [`linux-x64-musl: version 9.9.9, the root's is ${rootPkg.version}`]);
});

const localBuild = path.join(root, `job-queue.${platform.targetFor()}.node`);
test('the binary checker reads what the local build links: no OpenSSL, and its glibc versions', {
  skip: !(process.platform === 'linux' && fs.existsSync(localBuild)) && 'needs a local Linux build',
}, () => {
  const t = TARGETS.find((x) => x.name === platform.targetFor());
  const relaxed = checkBinary({ ...t, glibc: '99.0' }, localBuild);
  assert.deepStrictEqual(relaxed.problems, [], relaxed.facts.join('; '));
  assert.ok(!/ssl|crypto/.test(relaxed.facts.join(' ')), relaxed.facts.join('; '));
  assert.match(relaxed.facts.join(' '), /needs .*libc\.so\.6/);
  const strict = checkBinary({ ...t, glibc: '2.0' }, localBuild);
  assert.match(strict.problems.join(' '), /needs GLIBC_2\.\d+, newer than 2\.0/);
});
