'use strict';
// prepublishOnly of the root package: refuses to publish @shared-infra/job-queue unless every
// platform package it lists in optionalDependencies is ready beside it, each npm/<target>/
// holding its binary (of the right kind: ELF, Mach-O or PE), at the root's version, with the
// os/cpu/libc of scripts/targets.js. Otherwise users would install a root package whose engine
// is missing for their platform.
//   node scripts/prepublish-check.js [npm-dir]   (default: npm/ beside package.json)
const fs = require('node:fs');
const path = require('node:path');
const { TARGETS, packageName, binaryName } = require('./targets');

const root = path.join(__dirname, '..');

const MAGIC = {
  linux: (b) => b.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])), // \x7fELF
  darwin: (b) => b.readUInt32LE(0) === 0xfeedfacf, // 64-bit Mach-O
  win32: (b) => b.subarray(0, 2).toString('latin1') === 'MZ',
};

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Problems that stop a publish, as sentences (empty when ready). */
function problems(npmDir = path.join(root, 'npm'), rootPkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))) {
  const out = [];
  const optional = rootPkg.optionalDependencies ?? {};
  for (const t of TARGETS) {
    const name = packageName(t);
    if (optional[name] !== rootPkg.version) out.push(`optionalDependencies must list ${name} at ${rootPkg.version} (has ${optional[name] ?? 'nothing'})`);
    const dir = path.join(npmDir, t.name);
    let pkg;
    try {
      pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    } catch (e) {
      out.push(`${t.name}: no readable ${path.join(dir, 'package.json')} (${e.message})`);
      continue;
    }
    if (pkg.name !== name) out.push(`${t.name}: package.json names ${pkg.name}, not ${name}`);
    if (pkg.version !== rootPkg.version) out.push(`${t.name}: version ${pkg.version}, the root's is ${rootPkg.version}`);
    if (!same(pkg.os, [t.os]) || !same(pkg.cpu, [t.cpu]) || !same(pkg.libc, t.libc ? [t.libc] : undefined)) {
      out.push(`${t.name}: os/cpu/libc are ${JSON.stringify([pkg.os, pkg.cpu, pkg.libc])}`);
    }
    if (pkg.main !== binaryName(t) || !same(pkg.files, [binaryName(t)])) out.push(`${t.name}: main and files must be ${binaryName(t)}`);
    const bin = path.join(dir, binaryName(t));
    if (!fs.existsSync(bin)) {
      out.push(`${t.name}: no binary ${bin} (npm run build:all, or the release workflow's artifacts, then npm run artifacts)`);
    } else {
      const head = Buffer.alloc(4);
      const fd = fs.openSync(bin, 'r');
      fs.readSync(fd, head, 0, 4, 0);
      fs.closeSync(fd);
      if (!MAGIC[t.os](head)) out.push(`${t.name}: ${bin} is not a ${t.os} binary`);
    }
  }
  const extra = Object.keys(optional).filter((n) => !TARGETS.some((t) => packageName(t) === n));
  for (const n of extra) out.push(`optionalDependencies lists ${n}, which is no target of scripts/targets.js`);
  return out;
}

module.exports = { problems };

if (require.main === module) {
  const found = problems(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  if (found.length) {
    console.error(`prepublish-check: not publishing @shared-infra/job-queue:\n  ${found.join('\n  ')}`);
    process.exit(1);
  }
  console.error(`prepublish-check: all ${TARGETS.length} platform packages hold their binaries`);
}
