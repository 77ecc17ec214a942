'use strict';
// The package works from plain Node ESM: every runtime export can be imported by name from an
// .mjs file through the package's name (its "exports" map), and is the same value require()
// returns. Runs in a child process so the import goes through Node's ESM loader.
const test = require('node:test');
const assert = require('node:assert');
const { execFileSync } = require('node:child_process');
const { existsSync, writeFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const pkg = require('../package.json').name;

/** Runs an ES module (written into the package, so its name resolves to this package) and
 * returns what it prints as JSON. */
function runModule(t, source) {
  const file = join(__dirname, 'fixtures', `esm-${process.pid}-${Math.random().toString(16).slice(2)}.mjs`);
  writeFileSync(file, source);
  t.after(() => rmSync(file, { force: true }));
  let out;
  try {
    out = execFileSync(process.execPath, [file], { cwd: root, encoding: 'utf8', stdio: 'pipe', timeout: 30000 });
  } catch (err) {
    assert.fail(`the module failed:\n${err.stderr}`);
  }
  return JSON.parse(out);
}

/** A module importing `names` by name from `specifier` and checking each against require(). */
function importByName(specifier, names) {
  return `import { ${names.join(', ')} } from '${specifier}';
import { createRequire } from 'node:module';
const required = createRequire(import.meta.url)('${specifier}');
const imported = { ${names.join(', ')} };
const report = {};
for (const [name, value] of Object.entries(imported)) {
  report[name] = { type: typeof value, same: value === required[name] };
}
process.stdout.write(JSON.stringify(report));
`;
}

test('every export of the package imports by name in ESM and equals the required one', (t) => {
  const names = Object.keys(require('..'));
  assert.ok(names.length >= 20, `index.js exports ${names.length} names`);
  for (const expected of ['JobQueueCoordinator', 'jobCoordinator', 'ValidationError', 'ConnectionError', 'Job', 'Worker', 'QueueEvents', 'JobStatus']) {
    assert.ok(names.includes(expected), `${expected} is exported`);
  }
  const report = runModule(t, importByName(pkg, names));
  assert.deepStrictEqual(Object.keys(report).sort(), [...names].sort());
  for (const [name, { type, same }] of Object.entries(report)) {
    assert.notStrictEqual(type, 'undefined', `${name} is defined in ESM`);
    assert.ok(same, `${name} is the same value from import and require`);
  }
});

test('ESM classes work: an error constructed from the import is an instance of the required class', (t) => {
  const report = runModule(
    t,
    `import { ValidationError, JobQueueError, JobStatus } from '${pkg}';
import { createRequire } from 'node:module';
const required = createRequire(import.meta.url)('${pkg}');
const err = new ValidationError('queueName', 'must be a string');
process.stdout.write(JSON.stringify({
  instance: err instanceof required.ValidationError && err instanceof JobQueueError,
  code: err.code,
  field: err.field,
  waiting: JobStatus.WAITING,
}));
`,
  );
  assert.deepStrictEqual(report, { instance: true, code: 'ERR_VALIDATION', field: 'queueName', waiting: 'waiting' });
});

test('the package exports map: "." by name, deep paths closed', (t) => {
  const report = runModule(
    t,
    `let deep;
try { await import('${pkg}/lib/errors.js'); deep = 'opened'; } catch (err) { deep = err.code; }
process.stdout.write(JSON.stringify({ deep }));
`,
  );
  assert.deepStrictEqual(report, { deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});

test('./testing imports by name in ESM', { skip: !existsSync(join(root, 'lib/testing.js')) && 'lib/testing.js is not on this branch yet' }, (t) => {
  const names = Object.keys(require('../lib/testing'));
  assert.ok(names.includes('JobQueueTestUtils'));
  const report = runModule(t, importByName(`${pkg}/testing`, names));
  for (const name of names) assert.ok(report[name].same, `${name} is the same value from import and require`);
});

test('./admin imports by name in ESM', (t) => {
  const names = Object.keys(require('../lib/admin'));
  assert.deepStrictEqual(names.sort(), ['adminOptionsFromEnv', 'createAdminServer']);
  const report = runModule(t, importByName(`${pkg}/admin`, names));
  for (const name of names) assert.ok(report[name].same && report[name].type === 'function', `${name} is the same function from import and require`);
});
