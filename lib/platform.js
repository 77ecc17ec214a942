'use strict';
// Which prebuilt engine this process needs, and loading it. Linux's C library is told apart as
// the napi-rs template does: /usr/bin/ldd's text, else Node's process report (glibc's runtime
// version, or a musl loader among the shared objects), else `ldd --version`.
const { readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');

const SCOPE = '@shared-infra/job-queue';

/** The platform packages we publish (scripts/targets.js is the build side of this list). */
const TARGETS = ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64',
  'win32-x64-gnu'];

const isMuslFile = (f) => f.includes('libc.musl-') || f.includes('ld-musl-');

function muslFromFilesystem() {
  try {
    return readFileSync('/usr/bin/ldd', 'utf-8').includes('musl');
  } catch {
    return null;
  }
}

function muslFromReport() {
  if (!process.report || typeof process.report.getReport !== 'function') return null;
  process.report.excludeNetwork = true;
  const report = process.report.getReport();
  if (!report) return null;
  if (report.header && report.header.glibcVersionRuntime) return false;
  return Array.isArray(report.sharedObjects) && report.sharedObjects.some(isMuslFile);
}

function muslFromChildProcess() {
  try {
    return require('node:child_process').execSync('ldd --version', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).includes('musl');
  } catch {
    return false; // unknown: assume glibc, as the template does
  }
}

/** Whether this Linux process runs on musl (Alpine) rather than glibc. */
function isMusl() {
  let musl = muslFromFilesystem();
  if (musl === null) musl = muslFromReport();
  if (musl === null) musl = muslFromChildProcess();
  return musl;
}

/**
 * The target name (`linux-x64-musl`) for a platform and cpu, or null when we publish none.
 * Windows on x64 gets the MinGW build, which any Node for Windows loads (N-API is a C ABI, and
 * napi-rs finds Node's functions in the running process, not in an import library).
 */
function targetFor(platform = process.platform, arch = process.arch, musl = platform === 'linux' && isMusl()) {
  let name;
  if (platform === 'linux') name = `linux-${arch}-${musl ? 'musl' : 'gnu'}`;
  else if (platform === 'win32') name = `win32-${arch}-gnu`;
  else name = `${platform}-${arch}`;
  return TARGETS.includes(name) ? name : null;
}

/** The npm package of a target. */
const packageFor = (target) => `${SCOPE}-${target}`;

/**
 * Loads the engine: NAPI_RS_NATIVE_LIBRARY_PATH when set, else a local build in the package
 * folder (`npm run build`), else the platform package from optionalDependencies. The error
 * names the package to install, or says that there is none for this platform.
 */
function loadNative({ dir = join(__dirname, '..'), target = targetFor(), requireFn = require } = {}) {
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH) return requireFn(process.env.NAPI_RS_NATIVE_LIBRARY_PATH);
  const where = `${process.platform}-${process.arch}${process.platform === 'linux' ? (isMusl() ? ' (musl)' : ' (glibc)') : ''}`;
  if (!target) {
    throw new Error(`@shared-infra/job-queue has no prebuilt engine for ${where}; ` +
      `prebuilt ones: ${TARGETS.join(', ')}. Build it from source with \`npm run build\` (needs Rust).`);
  }
  const local = join(dir, `job-queue.${target}.node`);
  if (existsSync(local)) return requireFn(local);
  const pkg = packageFor(target);
  try {
    return requireFn(pkg);
  } catch (err) {
    const missing = err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(pkg);
    const e = new Error(missing
      ? `@shared-infra/job-queue needs its engine for ${where} from the package ${pkg}, which is not installed. ` +
        `npm installs it as an optional dependency: reinstall without --no-optional / --omit=optional ` +
        `(and with the same os, cpu and libc as where it runs, e.g. not a node_modules copied from a Mac), ` +
        `or add it with \`npm install ${pkg}\`.`
      : `@shared-infra/job-queue could not load its engine ${pkg} on ${where}: ${err && err.message}`);
    e.code = 'ERR_JOB_QUEUE_NATIVE';
    e.cause = err;
    throw e;
  }
}

module.exports = { TARGETS, isMusl, targetFor, packageFor, loadNative };
