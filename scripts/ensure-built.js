'use strict';
// Builds the native addon (release) when it is missing or older than the Rust sources or Lua
// scripts, so `npm run demo` and `npm test` work straight after `npm install`.
const fs = require('node:fs');
const path = require('node:path');
const { execSync } = require('node:child_process');

const root = path.join(__dirname, '..');
const addon = path.join(root, `job-queue.${require('../lib/platform').targetFor()}.node`);

function newest(dir) {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'target' || entry.name.startsWith('.')) continue;
    const p = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return latest;
}

const sources = Math.max(
  newest(path.join(root, 'src')),
  newest(path.join(root, 'crates')),
  fs.statSync(path.join(root, 'Cargo.toml')).mtimeMs,
);
if (!fs.existsSync(addon) || fs.statSync(addon).mtimeMs < sources) {
  console.error('ensure-built: building the native addon (release)…');
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
}
