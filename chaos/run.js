#!/usr/bin/env node
'use strict';
// `npm run chaos` / `node chaos/run.js [options]`: runs the checker once per configuration and
// prints the verdicts side by side; exits 1 if any run fails. Options:
//   --seed N            the schedule and job kinds (default 1); a failing run replays with it
//   --impl ours,bullmq  which workers and producers (default ours)
//   --fsync always,everysec   Redis's appendfsync, one run each (default both)
//   --jobs N --duration S --faults a,b,c --fault-count N --workers N --concurrency N
//   --port P            first port to try for the private redis-server
//   --recovery S        how long the queue may take to drain after the run (default 60)
//   --out FILE          the verdicts as JSON (default chaos-verdict.json in the temp dir)
//   --keep              keep the logs and the Redis dir
const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');
const { runChecker, ALL_FAULTS } = require('./checker');
const { table, faultTable } = require('./analyze');

function parse(argv) {
  const o = { impl: ['ours'], fsync: ['always', 'everysec'], run: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--seed') o.run.seed = Number(v());
    else if (a === '--impl') o.impl = v().split(',');
    else if (a === '--fsync') o.fsync = v().split(',');
    else if (a === '--jobs') o.run.jobs = Number(v());
    else if (a === '--duration') o.run.durationMs = Number(v()) * 1000;
    else if (a === '--faults') o.run.faults = v().split(',');
    else if (a === '--fault-count') o.run.faultCount = Number(v());
    else if (a === '--workers') o.run.workers = Number(v());
    else if (a === '--concurrency') o.run.concurrency = Number(v());
    else if (a === '--port') o.run.port = Number(v());
    else if (a === '--recovery') o.run.recoveryMs = Number(v()) * 1000;
    else if (a === '--out') o.out = v();
    else if (a === '--keep') o.run.keep = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const f of o.run.faults || []) if (!ALL_FAULTS.includes(f)) throw new Error(`unknown fault ${f} (known: ${ALL_FAULTS})`);
  return o;
}

(async () => {
  const o = parse(process.argv.slice(2));
  const verdicts = [];
  for (const impl of o.impl) {
    for (const fsync of o.fsync) {
      const v = await runChecker({ ...o.run, impl, fsync });
      verdicts.push(v);
      console.log(`\n${impl}/${fsync}, seed ${v.seed}:\n${faultTable(v)}`);
    }
  }
  console.log(`\n${table(verdicts)}`);
  const out = o.out || path.join(os.tmpdir(), 'chaos-verdict.json');
  fs.writeFileSync(out, JSON.stringify(verdicts, null, 2));
  console.log(`\nverdicts (with the lost, duplicate and failed jobs): ${out}`);
  process.exit(verdicts.every((v) => v.pass) ? 0 : 1);
})().catch((err) => {
  console.error(err);
  process.exit(2);
});
