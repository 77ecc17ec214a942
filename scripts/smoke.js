'use strict';
// Smoke test of an engine binary: enqueue 20 jobs, process them with a worker, check every
// return value, remove the queue. Used on binaries this machine cannot load natively (arm64
// under qemu, musl) and by the install test (scripts/install-test.sh).
//   REDIS_URL=redis://127.0.0.1:6379 node scripts/smoke.js [module]
// `module` defaults to this checkout; NAPI_RS_NATIVE_LIBRARY_PATH picks a binary to load.
const path = require('node:path');

const moduleId = process.argv[2] || path.join(__dirname, '..');
const JOBS = 20;
const DEADLINE_MS = Number(process.env.SMOKE_TIMEOUT_MS || 120000); // qemu is slow

async function main() {
  const { JobQueueCoordinator } = require(moduleId);
  const { targetFor } = require(path.join(path.dirname(require.resolve(moduleId)), 'lib', 'platform.js'));
  const queue = `smoke-${process.pid}-${Date.now().toString(36)}`;
  const c = new JobQueueCoordinator({ redis: { url: process.env.REDIS_URL || 'redis://127.0.0.1:6379', keyPrefix: `smoke-${process.pid}` } });
  const results = new Map();
  let failed = 0;
  c.on('completed', (e) => e.queueName === queue && results.set(e.jobId, e.detail));
  c.on('failed', (e) => e.queueName === queue && failed++);
  const started = Date.now();
  try {
    await c.registerWorker(queue, async (job) => ({ doubled: job.data.n * 2, arch: process.arch }), { concurrency: 4 });
    const ids = new Map();
    for (let n = 0; n < JOBS; n++) {
      const { id } = await c.enqueueJob(queue, { n }, { attempts: 1 });
      ids.set(String(id), n);
    }
    while (results.size < JOBS && failed === 0) {
      if (Date.now() - started > DEADLINE_MS) throw new Error(`only ${results.size}/${JOBS} jobs completed in ${DEADLINE_MS} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (failed) throw new Error(`${failed} job(s) failed`);
    for (const [id, n] of ids) {
      const r = results.get(id);
      if (!r || r.doubled !== n * 2) throw new Error(`job ${id}: returned ${JSON.stringify(r)}, expected doubled ${n * 2}`);
    }
    const status = await c.getQueueStatus(queue);
    if (status.jobCounts.completed !== JOBS) throw new Error(`Redis counts ${status.jobCounts.completed} completed jobs`);
    console.log(`smoke: ${process.platform}-${process.arch} (engine ${targetFor()}, node ${process.version}): ` +
      `${JOBS} jobs enqueued, processed and checked in ${Date.now() - started} ms`);
  } finally {
    await c.destroyQueue(queue, { force: true }).catch(() => {});
    await c.shutdown({ timeoutMs: 5000 });
  }
}

main().catch((err) => {
  console.error('smoke: FAILED', err);
  process.exit(1);
});
