'use strict';
// The hand-written index.d.ts and the implementation agree: the type test compiles, and the
// names declared as exports are exactly the names index.js exports.
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

test('the type usage test compiles with tsc --strict', () => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(__dirname, 'types')], {
    cwd: root,
    stdio: 'pipe',
  });
});

test('index.d.ts declares exactly the runtime exports', () => {
  const dts = readFileSync(join(root, 'index.d.ts'), 'utf8');
  const declared = new Set(
    [...dts.matchAll(/^export declare (?:class|const|function) (\w+)/gm)].map((m) => m[1]),
  );
  const runtime = new Set(Object.keys(require('..')));
  assert.deepStrictEqual([...runtime].sort(), [...declared].sort());
});
