'use strict';
// The scenarios. Each `run(peer, ctx)` gets an opened peer on a fresh queue and returns the
// run's metrics; the driver closes the peer and deletes its keys afterwards.
//
// ctx: { probe (RedisProbe), gc(), jobs (job count for this scenario), cfg }

const { performance } = require('node:perf_hooks');
const { RedisProbe } = require('./redis-probe');
const { percentile } = require('./report');

const BULK_CHUNK = 1000; // jobs per bulk call
const SINGLE_IN_FLIGHT = 100; // enqueue-single: add calls awaiting at once
const MEMORY_JOBS = 10000;
const MEMORY_PAYLOAD = { p: 'x'.repeat(192) }; // JSON.stringify(...) is exactly 200 bytes
const LATENCY_CONCURRENCY = 50;
const LATENCY_TICK_MS = 2;

/** Wall clock with sub-ms resolution, used for every peer's latency. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const noop = async () => {};

/**
 * Runs `fn` between two Redis snapshots and reports wall time, Node CPU (whole process,
 * including native threads), redis-server CPU and Redis commands, per job.
 */
async function measure(ctx, jobs, fn) {
  ctx.gc();
  await ctx.probe.resetStatsIfPrivate();
  const before = await ctx.probe.snapshot();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const extra = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const after = await ctx.probe.snapshot();
  const redis = RedisProbe.delta(before, after);
  return {
    jobs,
    seconds,
    jobsPerSec: jobs / seconds,
    nodeCpuMsPer1k: (cpu.user + cpu.system) / jobs, // µs per job = ms per 1,000 jobs
    redisCpuMsPer1k: (redis.redisCpuMs * 1000) / jobs,
    cmdsPerJob: redis.commands / jobs, // includes commands run inside Lua scripts
    scriptCallsPerJob: redis.scriptCalls / jobs, // EVAL/EVALSHA/FCALL invocations
    ...extra,
  };
}

/**
 * Counts completions reported by the peer's worker; `wait()` resolves at `target`. If the
 * count stops moving for 5 s it asks the queue (in case events were missed), and fails
 * after `stallMs` without progress.
 */
function completion(peer, target, stallMs = 60000) {
  let done = 0;
  let settle;
  const promise = new Promise((resolve, reject) => (settle = { resolve, reject }));
  promise.catch(() => {}); // handled by whoever awaits wait(); never an unhandled rejection
  let seen = 0;
  let lastChange = Date.now();
  let polling = false;
  const finish = (err) => {
    clearInterval(timer);
    if (err) settle.reject(err);
    else settle.resolve();
  };
  const timer = setInterval(async () => {
    if (done !== seen) {
      seen = done;
      lastChange = Date.now();
      return;
    }
    const idle = Date.now() - lastChange;
    if (idle > stallMs) {
      finish(new Error(`stalled at ${done}/${target} completed (no progress for ${stallMs / 1000} s)`));
    } else if (idle > 5000 && !polling) {
      polling = true;
      try {
        const c = await peer.counts();
        if (c.completed >= target) finish();
      } catch {
        // keep waiting; the stall timeout reports it
      } finally {
        polling = false;
      }
    }
  }, 1000);
  return {
    hit: () => {
      done += 1;
      if (done === target) finish();
    },
    wait: () => promise,
    cancel: () => clearInterval(timer),
  };
}

/** Adds `n` jobs with the bulk API, `BULK_CHUNK` per call, one call at a time. */
async function bulkAdd(peer, n, opts, makeData) {
  for (let start = 0; start < n; start += BULK_CHUNK) {
    const items = [];
    for (let i = start; i < Math.min(n, start + BULK_CHUNK); i++) items.push({ data: makeData(i), opts });
    await peer.enqueueBulk(items);
  }
}

/** Checks the queue's own counts after a run (a few tries: finishing may trail events). */
async function expectCounts(peer, expected) {
  let counts;
  for (let i = 0; i < 30; i++) {
    try {
      counts = await peer.counts();
    } catch (err) {
      throw new Error(`reading the queue's counts after the run failed: ${err.message}`);
    }
    if (Object.entries(expected).every(([k, v]) => counts[k] === v)) return counts;
    await sleep(100);
  }
  throw new Error(`queue counts after the run ${JSON.stringify(counts)}, expected ${JSON.stringify(expected)}`);
}

/** Calls `send(i)` for i in [0, total) at `rate` per second, the due number each tick. */
function pace(rate, total, send) {
  return new Promise((resolve, reject) => {
    const pending = [];
    const start = now();
    let sent = 0;
    let failure = null;
    const timer = setInterval(() => {
      if (failure) {
        clearInterval(timer);
        reject(failure);
        return;
      }
      const due = Math.min(total, Math.floor(((now() - start) * rate) / 1000));
      for (; sent < due; sent++) pending.push(send(sent).catch((err) => (failure = failure || err)));
      if (sent >= total) {
        clearInterval(timer);
        const seconds = (now() - start) / 1000;
        Promise.all(pending).then(() => (failure ? reject(failure) : resolve(seconds)));
      }
    }, LATENCY_TICK_MS);
  });
}

function processing(name, concurrency, jobsKey) {
  return {
    name,
    jobs: (cfg) => cfg[jobsKey],
    figures: [{ key: 'jobsPerSec', label: 'throughput', format: 'rate' }],
    async run(peer, ctx) {
      const n = ctx.jobs;
      await bulkAdd(peer, n, peer.jobOptions({ attempts: 1 }), (i) => ({ i }));
      const done = completion(peer, n);
      try {
        const m = await measure(ctx, n, async () => {
          await peer.startWorker({ concurrency, processor: noop, onCompleted: done.hit });
          await done.wait();
        });
        await expectCounts(peer, { completed: n, failed: 0, waiting: 0, active: 0 });
        return m;
      } finally {
        done.cancel();
      }
    },
  };
}

const SCENARIOS = [
  {
    name: 'enqueue-single',
    jobs: (cfg) => cfg.jobs,
    figures: [{ key: 'jobsPerSec', label: 'throughput', format: 'rate' }],
    async run(peer, ctx) {
      const n = ctx.jobs;
      const opts = peer.jobOptions({ attempts: 1 });
      const m = await measure(ctx, n, async () => {
        let next = 0;
        const lane = async () => {
          while (next < n) {
            const i = next++;
            await peer.enqueueOne({ i }, opts);
          }
        };
        await Promise.all(Array.from({ length: Math.min(SINGLE_IN_FLIGHT, n) }, lane));
      });
      await expectCounts(peer, { waiting: n });
      return m;
    },
  },
  {
    name: 'enqueue-bulk',
    jobs: (cfg) => cfg.jobs,
    figures: [{ key: 'jobsPerSec', label: 'throughput', format: 'rate' }],
    async run(peer, ctx) {
      const n = ctx.jobs;
      const opts = peer.jobOptions({ attempts: 1 });
      const m = await measure(ctx, n, () => bulkAdd(peer, n, opts, (i) => ({ i })));
      await expectCounts(peer, { waiting: n });
      return m;
    },
  },
  processing('process-c1', 1, 'c1Jobs'),
  processing('process-c100', 100, 'jobs'),
  {
    name: 'e2e-latency',
    jobs: (cfg) => Math.round(cfg.latencyRate * cfg.latencySeconds),
    figures: [
      { key: 'p50', label: 'latency p50', format: 'ms' },
      { key: 'p95', label: 'latency p95', format: 'ms' },
      { key: 'p99', label: 'latency p99', format: 'ms' },
    ],
    async run(peer, ctx) {
      const total = ctx.jobs;
      const latencies = new Float64Array(total);
      let started = 0;
      const processor = async (data) => {
        if (started < total) latencies[started++] = now() - data.t;
      };
      const done = completion(peer, total);
      try {
        await peer.startWorker({ concurrency: LATENCY_CONCURRENCY, processor, onCompleted: done.hit });
        await sleep(250); // let the worker reach its blocking wait
        const opts = peer.jobOptions({ attempts: 1 });
        let producerSeconds = 0;
        const m = await measure(ctx, total, async () => {
          producerSeconds = await pace(ctx.cfg.latencyRate, total, (i) => peer.enqueueOne({ i, t: now() }, opts));
          await done.wait();
        });
        await expectCounts(peer, { completed: total, failed: 0 });
        const sorted = latencies.subarray(0, started).sort();
        return {
          ...m,
          offeredRate: total / producerSeconds,
          p50: percentile(sorted, 50),
          p95: percentile(sorted, 95),
          p99: percentile(sorted, 99),
          max: sorted[sorted.length - 1],
        };
      } finally {
        done.cancel();
      }
    },
  },
  {
    name: 'memory',
    jobs: () => MEMORY_JOBS,
    // used_memory also moves with the keyspace's hash table (it doubles, and is shrunk later
    // by a cron), ~±25 B/job at 10k jobs between runs; the keys' own bytes do not.
    figures: [
      { key: 'bytesPerJob', label: 'Redis memory / job', format: 'bytes' },
      { key: 'keyBytesPerJob', label: 'key bytes / job', format: 'bytes' },
    ],
    async run(peer, ctx) {
      const n = ctx.jobs;
      const opts = peer.jobOptions({ attempts: 1 });
      // Load the peer's scripts into Redis first, then start again from no keys.
      await bulkAdd(peer, 10, opts, () => MEMORY_PAYLOAD);
      await ctx.probe.deleteKeys(peer.prefix);
      const before = await ctx.probe.memory();
      const m = await measure(ctx, n, () => bulkAdd(peer, n, opts, () => MEMORY_PAYLOAD));
      const after = await ctx.probe.settleClientMemory(before.clients);
      const keyBytes = await ctx.probe.keyBytes(peer.prefix);
      await expectCounts(peer, { waiting: n });
      return {
        ...m,
        bytesPerJob: (after.used - before.used) / n,
        keyBytesPerJob: keyBytes / n, // sum of MEMORY USAGE over the peer's keys
      };
    },
  },
  {
    name: 'retry',
    jobs: (cfg) => cfg.jobs,
    figures: [{ key: 'jobsPerSec', label: 'throughput', format: 'rate' }],
    async run(peer, ctx) {
      const n = ctx.jobs;
      await bulkAdd(peer, n, peer.jobOptions({ attempts: 2, backoffMs: 0 }), (i) => ({ i }));
      const failedOnce = new Uint8Array(n);
      const processor = async (data) => {
        if (!failedOnce[data.i]) {
          failedOnce[data.i] = 1;
          throw new Error('first attempt fails');
        }
      };
      const done = completion(peer, n);
      try {
        const m = await measure(ctx, n, async () => {
          await peer.startWorker({ concurrency: 100, processor, onCompleted: done.hit });
          await done.wait();
        });
        await expectCounts(peer, { completed: n, failed: 0, waiting: 0, active: 0, delayed: 0 });
        const firstFailures = failedOnce.reduce((a, b) => a + b, 0);
        if (firstFailures !== n) throw new Error(`${firstFailures}/${n} jobs failed their first attempt`);
        return m;
      } finally {
        done.cancel();
      }
    },
  },
];

module.exports = { SCENARIOS, measure, completion, bulkAdd, BULK_CHUNK, LATENCY_CONCURRENCY };
