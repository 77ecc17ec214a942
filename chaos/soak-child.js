'use strict';
// A soak process: a producer (role 'producer': addBulk batches paced to `rate` jobs/s until
// `count` are sent) or a worker (role 'worker': a no-op processor, removeOnComplete). Every
// `sampleMs` it reports over IPC its RSS, heap, active handles and its own counter.
// Config: env SOAK (JSON {role, url, queue, prefix, count, rate, concurrency, sampleMs}).

const cfg = JSON.parse(process.env.SOAK);
const { Queue, Worker } = require('..');

const u = new URL(cfg.url);
const connection = { host: u.hostname, port: Number(u.port) };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let done = 0;

function sample() {
  const m = process.memoryUsage();
  process.send({ type: 'sample', rss: m.rss, heap: m.heapUsed, handles: process._getActiveHandles().length, done });
}

async function produce() {
  const q = new Queue(cfg.queue, { connection, prefix: cfg.prefix });
  const start = Date.now();
  const BATCH = 250;
  while (done < cfg.count) {
    const due = start + (done * 1000) / cfg.rate;
    if (due > Date.now()) await sleep(due - Date.now());
    const n = Math.min(BATCH, cfg.count - done);
    const jobs = Array.from({ length: n }, (_, i) => ({
      name: 's',
      data: { i: done + i },
      opts: { removeOnComplete: true, removeOnFail: 1000 },
    }));
    try {
      await q.addBulk(jobs);
      done += n;
    } catch (err) {
      process.send({ type: 'error', message: String(err.message) });
      await sleep(200);
    }
  }
  sample();
  process.send({ type: 'produced', done });
  await q.close();
  process.exit(0);
}

async function work() {
  const w = new Worker(cfg.queue, async () => 1, { connection, prefix: cfg.prefix, concurrency: cfg.concurrency });
  w.on('completed', () => (done += 1));
  w.on('error', (err) => process.send({ type: 'error', message: String(err.message) }));
  await w.waitUntilReady();
  process.on('message', async (m) => {
    if (m === 'close') {
      await w.close();
      sample();
      process.exit(0);
    }
  });
}

setInterval(sample, cfg.sampleMs).unref();
process.on('disconnect', () => process.exit(0));
(cfg.role === 'producer' ? produce() : work()).catch((err) => {
  console.error(err);
  process.exit(1);
});
