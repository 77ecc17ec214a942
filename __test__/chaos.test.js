'use strict';
// The short run of the fault-injection checker (chaos/, README "Proving no job is lost"): a
// few thousand jobs through producer and worker processes while the nemesis kills and stops
// workers, kills Redis (restarted from its AOF), stops it past the lock duration, kills the
// connections, fills its memory and makes it sleep; each run on its own redis-server. The long
// runs are `npm run chaos`.

const test = require('node:test');
const assert = require('node:assert/strict');
const { runChecker } = require('../chaos/checker');
const { table } = require('../chaos/analyze');

const SEED = Number(process.env.CHAOS_SEED || 7);

for (const fsync of ['always', 'everysec']) {
  test(`checker (appendfsync ${fsync}): no acknowledged job lost, stuck or run twice without a recorded fault`, { timeout: 120000 }, async (t) => {
    const v = await runChecker({
      seed: SEED,
      fsync,
      jobs: 1500,
      durationMs: 12000,
      workers: 2,
      concurrency: 4,
      faults: ['worker-kill', 'redis-kill', 'client-kill', 'oom', 'redis-stop', 'worker-stop'],
      faultCount: 6,
      recoveryMs: 45000,
      quiet: true,
    });
    for (const line of table([v]).split('\n')) t.diagnostic(line);
    const detail = JSON.stringify(v.details).slice(0, 2000);
    assert.equal(v.acknowledged, 1500, 'every add was acknowledged in the end (producers retry)');
    assert.equal(v.lost, 0, `lost jobs: ${detail}`);
    assert.equal(v.unfinished, 0, `unfinished jobs: ${detail}`);
    assert.equal(v.stuckInActive, 0);
    assert.equal(v.unexplainedDuplicates, 0, `duplicates without a recorded fault: ${detail}`);
    assert.ok(v.countsConsistent, `getJobCounts, the state sets and the job hashes disagree: ${detail}`);
    assert.equal(v.untypedRejects, 0, `untyped add errors: ${detail}`);
    assert.equal(v.failedOther, 0, `jobs failed for a reason other than their own: ${detail}`);
    if (fsync === 'always') assert.equal(v.lostInFsyncWindow, 0);
    assert.equal(v.completed + v.failedByPolicy + v.lostInFsyncWindow, v.acknowledged);
    assert.ok(v.failedByPolicy > 0, 'jobs that throw failed after their attempts');
    assert.equal(v.faults.length, 6);
    for (const f of v.faults) assert.notEqual(f.resumeMs, null, `processing resumed after ${f.kind}`);
    assert.ok(v.pass);
  });
}
