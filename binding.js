'use strict';
// Loads the native addon: a local build (`npm run build`) first, else the prebuilt package
// for this platform from optionalDependencies.
const { join } = require('node:path');
const { existsSync } = require('node:fs');

function platformTriple() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime;
    return `${platform}-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  return `${platform}-${arch}`;
}

function load() {
  const triple = platformTriple();
  const local = join(__dirname, `job-queue.${triple}.node`);
  if (existsSync(local)) return require(local);
  try {
    return require(`@shared-infra/job-queue-${triple}`);
  } catch (err) {
    throw new Error(
      `@shared-infra/job-queue has no native build for ${triple}: ` +
        `build it with \`npm run build\` (needs Rust) or install @shared-infra/job-queue-${triple}. ` +
        `(${err.message})`,
    );
  }
}

module.exports = load();
