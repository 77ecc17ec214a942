'use strict';
// The demo: an API process enqueues 1,000 photo jobs while a worker process handles them;
// this script waits until every job is settled and prints the queue status.
// `npm run demo` runs it with a reachable Redis (see scripts/with-redis.js).
const { fork } = require('node:child_process');
const { join } = require('node:path');
const { JobQueueCoordinator } = require('../..');

const PHOTOS = 1000;
const queue = `photo-processing-${Date.now().toString(36)}`;
const env = { ...process.env, DEMO_QUEUE: queue, DEMO_PHOTOS: String(PHOTOS) };

function start(file) {
  const child = fork(join(__dirname, file), { env });
  child.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return child;
}

async function waitUntilSettled(admin, deadline) {
  for (;;) {
    const s = await admin.getQueueStatus(queue).catch(() => null);
    if (s && s.jobCounts.completed + s.jobCounts.failed === PHOTOS) return s;
    if (Date.now() > deadline) throw new Error(`not settled in time: ${JSON.stringify(s && s.jobCounts)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main() {
  console.log(`Redis: ${process.env.REDIS_URL || 'redis://127.0.0.1:6379'}, queue: ${queue}`);
  const admin = new JobQueueCoordinator();
  const started = Date.now();
  const worker = start('worker.js');
  const api = start('api.js');
  if ((await api.exited) !== 0) throw new Error('the API process failed');
  const status = await waitUntilSettled(admin, Date.now() + 120000);
  const elapsed = Date.now() - started;
  worker.kill('SIGTERM');
  if ((await worker.exited) !== 0) throw new Error('the worker process failed');
  const failed = await admin.getFailedJobs(queue);
  console.log(`\nAll ${PHOTOS} jobs settled in ${elapsed} ms. Queue status:`);
  console.log(JSON.stringify(status, null, 2));
  for (const job of failed) {
    console.log(`dead letter: job ${job.id} (${job.name}, photo ${job.data.photoId}) after ${job.attemptsMade} attempt(s): ${job.failedReason}`);
  }
  await admin.shutdown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
