'use strict';
// The API service: each "upload" enqueues a photo job, as in the design's example.
// Run by run.js; configured from the environment (REDIS_URL, REDIS_KEY_PREFIX).
const { jobCoordinator } = require('../..');

const QUEUE = process.env.DEMO_QUEUE || 'photo-processing';
const PHOTOS = Number(process.env.DEMO_PHOTOS || 1000);
const IN_FLIGHT = 50; // concurrent requests, like a busy API

async function upload(photoId) {
  return jobCoordinator.enqueueJob(QUEUE, {
    type: 'process-photo',
    photoId,
    filePath: `/tmp/uploads/${photoId}.jpg`,
  }, { attempts: 3, backoff: { type: 'fixed', delay: 200 } });
}

async function main() {
  const started = Date.now();
  let next = 1;
  async function client() {
    while (next <= PHOTOS) await upload(next++);
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, client));
  console.log(`[api]    enqueued ${PHOTOS} photo jobs in ${Date.now() - started} ms`);
  await jobCoordinator.shutdown();
}

main().catch((err) => {
  console.error('[api]', err);
  process.exit(1);
});
