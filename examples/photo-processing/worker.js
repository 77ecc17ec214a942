'use strict';
// The worker service: processes photo jobs until SIGTERM, then shuts down gracefully.
// Every 25th photo fails its first attempt (a flaky thumbnail service) and is retried;
// photo 500 is corrupt and fails for good without retries.
const { jobCoordinator, UnrecoverableError } = require('../..');

const QUEUE = process.env.DEMO_QUEUE || 'photo-processing';
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function processPhoto(job, ctx) {
  const { photoId } = job.data;
  if (photoId === 500) throw new UnrecoverableError(`photo ${photoId} is corrupt`);
  await pause(2 + (photoId % 5)); // resize
  if (photoId % 25 === 0 && ctx.attemptNumber === 1) {
    throw new Error(`thumbnail service timed out for photo ${photoId}`);
  }
  await pause(1); // thumbnails
  return { photoId, thumbnails: ['small', 'medium', 'large'], attempt: ctx.attemptNumber };
}

async function main() {
  const worker = await jobCoordinator.registerWorker(QUEUE, processPhoto, { concurrency: 20 });
  let retried = 0;
  // BullMQ's arguments (job, error, prev), and ours after them: whether it will be retried
  worker.on('failed', (job, err, _prev, { retrying }) => {
    if (retrying) retried++;
    else console.log(`[worker] job ${job?.id} failed for good: ${err.message}`);
  });
  console.log(`[worker] ${worker.id} processing ${QUEUE} (pid ${process.pid})`);
  process.once('SIGTERM', async () => {
    await jobCoordinator.shutdown({ timeoutMs: 5000 });
    const { completed, failed } = worker.stats();
    console.log(`[worker] shut down: ${completed} completed, ${failed} failed attempts (${retried} retried)`);
    process.exit(0);
  });
}

main().catch((err) => {
  console.error('[worker]', err);
  process.exit(1);
});
