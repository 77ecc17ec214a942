'use strict';
// A checker producer (a child process). Enqueues `count` jobs with ids `<tag>-<i>` at about
// `rate` jobs/s, `inflight` adds at a time, and appends `{ev:'ack', id}` to its log when an add
// resolved. An add that fails is logged (`{ev:'rej', code}`) and tried again with the same id
// until it resolves: a repeated id is a no-op in Redis, so a retry after an add whose reply was
// lost cannot make a second job. Job kinds (what the processor does) come from the seed.
//
// Config: env CHAOS (JSON {url, prefix, queue, impl, tag, count, rate, inflight, seed, log, mix}).

const cfg = JSON.parse(process.env.CHAOS);
const { openLog, rng } = require('./log');

const log = openLog(cfg.log);
const random = rng(cfg.seed);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** What job i does, and its options: most succeed, some throw (2 attempts), some hang past
 * their timeout (ours: timeoutMs), some block the event loop. */
function jobFor(i) {
  const x = random();
  const m = cfg.mix;
  let k = 'ok';
  if (x < m.throw) k = 'throw';
  else if (x < m.throw + m.hang) k = 'hang';
  else if (x < m.throw + m.hang + m.block) k = 'block';
  const opts = { jobId: `${cfg.tag}-${i}`, attempts: k === 'throw' ? 2 : 1 };
  if (k === 'hang' && cfg.impl !== 'bullmq') opts.timeoutMs = 1000;
  return { data: { k, i }, opts };
}

async function main() {
  const { Queue } = cfg.impl === 'bullmq' ? require('bullmq') : require('..');
  const u = new URL(cfg.url);
  const queue = new Queue(cfg.queue, {
    prefix: cfg.prefix,
    connection: { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null, enableOfflineQueue: true },
  });
  queue.on('error', () => {});
  const start = Date.now();
  // kinds are drawn in id order, whatever order the lanes send in
  const jobs = Array.from({ length: cfg.count }, (_, i) => jobFor(i));
  let next = 0;
  async function lane() {
    for (let i = next++; i < cfg.count; i = next++) {
      const due = start + (i * 1000) / cfg.rate;
      if (due > Date.now()) await sleep(due - Date.now());
      const { data, opts } = jobs[i];
      for (let tries = 0; ; tries++) {
        try {
          await queue.add('chaos', data, opts);
          log({ ev: 'ack', id: opts.jobId, k: data.k });
          break;
        } catch (err) {
          log({ ev: 'rej', id: opts.jobId, code: err.code || null, cls: err.constructor?.name, msg: String(err.message).slice(0, 200) });
          await sleep(Math.min(1000, 50 * 2 ** Math.min(tries, 5)));
        }
      }
    }
  }
  const lanes = [];
  for (let l = 0; l < cfg.inflight; l++) lanes.push(lane());
  await Promise.all(lanes);
  log({ ev: 'done' });
  await queue.close().catch(() => {});
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
