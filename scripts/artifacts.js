'use strict';
// `npm run artifacts [-- dir]`: copies each built binary (job-queue.<target>.node, from
// artifacts/ or the given folder, one level of subfolders too, as the release workflow
// downloads them) into its platform package npm/<target>/. A target without a binary loses any
// older one in npm/<target>/ (so a stale engine is never published) and makes the exit code 1.
// Unlike `napi artifacts`, nothing is written to the package root, where a developer's own
// build lives.
const fs = require('node:fs');
const path = require('node:path');
const { TARGETS, binaryName } = require('./targets');
const { findBinary } = require('./check-binaries');

const root = path.join(__dirname, '..');
const dir = path.resolve(process.argv[2] || path.join(root, 'artifacts'));
const missing = [];
for (const t of TARGETS) {
  const dest = path.join(root, 'npm', t.name, binaryName(t));
  const src = findBinary(dir, t);
  if (!src) {
    fs.rmSync(dest, { force: true });
    missing.push(t.name);
    continue;
  }
  fs.copyFileSync(src, dest);
  console.log(`artifacts: ${path.relative(root, src)} -> ${path.relative(root, dest)}`);
}
if (missing.length) {
  console.error(`artifacts: no binary in ${dir} for ${missing.join(', ')} (npm run build:all, or the release workflow)`);
  process.exitCode = 1;
}
