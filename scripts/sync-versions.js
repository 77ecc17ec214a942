'use strict';
// `npm version <x.y.z>` runs this (the "version" script): every npm/<target>/package.json and
// the root's optionalDependencies take the root's new version, so the release publishes a
// matching set (prepublish-check.js refuses anything else).
const fs = require('node:fs');
const path = require('node:path');
const { TARGETS, packageName } = require('./targets');

const root = path.join(__dirname, '..');
const write = (file, obj) => fs.writeFileSync(file, `${JSON.stringify(obj, null, 2)}\n`);
const rootFile = path.join(root, 'package.json');
const rootPkg = JSON.parse(fs.readFileSync(rootFile, 'utf8'));
for (const t of TARGETS) {
  const file = path.join(root, 'npm', t.name, 'package.json');
  write(file, { ...JSON.parse(fs.readFileSync(file, 'utf8')), version: rootPkg.version });
  rootPkg.optionalDependencies[packageName(t)] = rootPkg.version;
}
write(rootFile, rootPkg);
console.error(`sync-versions: ${TARGETS.length} platform packages at ${rootPkg.version}`);
