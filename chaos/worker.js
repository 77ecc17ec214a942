'use strict';
// A checker worker (a child process): a Worker (ours, or BullMQ's with impl 'bullmq') whose
// processor appends `{ev:'s', id, att}` when a job starts and `{ev:'r', id, ok}` when the
// processor returns or throws; the worker's events add `c` (completed), `f` (failed),
// `stalled` and `err`. Job kinds: ok (2-10 ms), throw, hang (4 s: past its 1 s timeout),
// block (busy-loops the event loop for blockMs).
//
// Config: env CHAOS (JSON {url, prefix, queue, impl, concurrency, lockDuration,
// stalledInterval, blockMs, log}). IPC 'close' closes the worker and exits 0.

const cfg = JSON.parse(process.env.CHAOS);
const { openLog } = require('./log');

const log = openLog(cfg.log, { pid: process.pid });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function processor(job) {
  const { k } = job.data;
  log({ ev: 's', id: job.id, att: job.attemptsMade });
  try {
    if (k === 'throw') throw new Error('boom');
    if (k === 'hang') await sleep(4000);
    else if (k === 'block') {
      const until = Date.now() + cfg.blockMs;
      while (Date.now() < until); // the event loop is blocked
    } else await sleep(2 + Math.floor(Math.random() * 9));
    log({ ev: 'r', id: job.id, ok: true });
    return { pid: process.pid };
  } catch (err) {
    log({ ev: 'r', id: job.id, ok: false });
    throw err;
  }
}

async function main() {
  const { Worker } = cfg.impl === 'bullmq' ? require('bullmq') : require('..');
  const u = new URL(cfg.url);
  const worker = new Worker(cfg.queue, processor, {
    prefix: cfg.prefix,
    connection: { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null },
    concurrency: cfg.concurrency,
    lockDuration: cfg.lockDuration,
    stalledInterval: cfg.stalledInterval,
    maxStalledCount: 1000,
  });
  worker.on('completed', (job) => log({ ev: 'c', id: job.id }));
  worker.on('failed', (job, err) => job && log({ ev: 'f', id: job.id, msg: String(err && err.message).slice(0, 120) }));
  worker.on('stalled', (id) => log({ ev: 'stalled', id }));
  worker.on('error', (err) => log({ ev: 'err', msg: String(err && err.message).slice(0, 200) }));
  await worker.waitUntilReady();
  log({ ev: 'ready' });
  process.on('message', async (m) => {
    if (m === 'close') {
      await worker.close().catch(() => {});
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  if (process.connected) process.send('ready');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
