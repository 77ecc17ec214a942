'use strict';
// The fault-injection checker ("no job lost"). One run:
//   1. starts a private redis-server (AOF, appendfsync as asked) on a free loopback port;
//   2. forks producer processes (producer.js) and worker processes (worker.js), each logging
//      to its own file outside Redis (acknowledgements; starts, returns, settles);
//   3. runs the nemesis: faults on a schedule drawn from the seed, each recorded with its
//      start, end and target;
//   4. waits for the queue to drain (recovery), reads the logs and Redis, and gives the
//      verdict (analyze.js).
// Everything it starts it stops by pid; its temp dir is removed unless `keep`.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { fork } = require('node:child_process');
const Redis = require('ioredis');
const { RedisServer, freePort, sleep } = require('./redis');
const { readLog, rng } = require('./log');
const { analyze } = require('./analyze');

const ALL_FAULTS = ['worker-kill', 'worker-stop', 'redis-kill', 'redis-stop', 'client-kill', 'debug-sleep', 'oom'];

const DEFAULTS = {
  seed: 1,
  impl: 'ours', // or 'bullmq': BullMQ 6's Queue and Worker on the same schedule
  fsync: 'always', // or 'everysec'
  jobs: 3000,
  durationMs: 30000, // how long producers take to enqueue, and the span of the schedule
  producers: 2,
  workers: 3,
  concurrency: 4,
  lockDuration: 2000,
  stalledInterval: 1000,
  blockMs: 2500,
  faults: ALL_FAULTS,
  faultCount: 8,
  mix: { throw: 0.02, hang: 0.005, block: 0.002 },
  recoveryMs: 60000,
  port: 0,
  keep: false,
  quiet: false,
};

/** The schedule a seed gives: `count` faults spread over the run, kinds taken in a seeded
 * order (each kind once before any repeats), each with its target index and length. */
function schedule(opts) {
  const random = rng(opts.seed * 7919 + 17);
  const kinds = [];
  while (kinds.length < opts.faultCount) {
    const round = [...opts.faults];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [round[i], round[j]] = [round[j], round[i]];
    }
    kinds.push(...round);
  }
  kinds.length = opts.faultCount;
  const gap = opts.durationMs / (opts.faultCount + 1);
  return kinds.map((kind, n) => ({
    kind,
    at: Math.round(gap * (n + 1) + (random() - 0.5) * gap * 0.3),
    target: Math.floor(random() * opts.workers),
  }));
}

async function runChecker(given = {}) {
  const opts = { ...DEFAULTS, ...given };
  const say = opts.quiet ? () => {} : (m) => console.error(`chaos: ${m}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `jq-chaos-${opts.impl}-${opts.fsync}-`));
  const port = await freePort(opts.port);
  const redis = new RedisServer({ port, fsync: opts.fsync, dir: path.join(dir, 'redis') });
  fs.mkdirSync(redis.dir);
  const prefix = `chaos${opts.seed}`;
  const queue = 'q';
  const children = new Set();
  const faults = [];
  const plan = schedule(opts);
  let admin;
  say(`seed ${opts.seed}, ${opts.impl} workers, appendfsync ${opts.fsync}, redis on ${port}, dir ${dir}`);
  say(`schedule: ${plan.map((f) => `${f.kind}@${(f.at / 1000).toFixed(1)}s`).join(' ')}`);

  function forkChild(file, cfg) {
    const child = fork(path.join(__dirname, file), [], {
      env: { ...process.env, CHAOS: JSON.stringify(cfg) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.exitedP = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stderrText = () => stderr;
    children.add(child);
    child.exitedP.then(() => children.delete(child));
    return child;
  }

  const base = { url: redis.url, prefix, queue, impl: opts.impl };
  const workers = [];
  let workerSeq = 0;
  async function startWorker(slot) {
    const n = workerSeq++;
    const child = forkChild('worker.js', {
      ...base,
      concurrency: opts.concurrency,
      lockDuration: opts.lockDuration,
      stalledInterval: opts.stalledInterval,
      blockMs: opts.blockMs,
      log: path.join(dir, `worker-${n}.jsonl`),
    });
    workers[slot] = child;
    await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.exitedP.then((e) => reject(new Error(`worker exited before ready ${JSON.stringify(e)}: ${child.stderrText()}`)));
    });
    return child;
  }

  async function adminClient() {
    if (admin) admin.disconnect();
    admin = new Redis(redis.url, { maxRetriesPerRequest: null, connectionName: 'chaos-nemesis' });
    admin.on('error', () => {});
    return admin;
  }

  /** Applies one fault; resolves when it is over (the system may still be recovering). */
  async function inject(f) {
    const rec = { kind: f.kind, start: Date.now() };
    const w = workers[f.target];
    switch (f.kind) {
      case 'worker-kill':
        rec.pid = w.pid;
        w.kill('SIGKILL');
        await w.exitedP;
        await startWorker(f.target);
        break;
      case 'worker-stop':
        rec.pid = w.pid;
        rec.ms = opts.lockDuration * 2;
        w.kill('SIGSTOP');
        await sleep(rec.ms);
        w.kill('SIGCONT');
        break;
      case 'redis-kill':
        await redis.kill();
        rec.killedAt = Date.now();
        await sleep(300);
        await redis.restart();
        await adminClient();
        break;
      case 'redis-stop':
        rec.ms = Math.round(opts.lockDuration * 1.5);
        redis.signal('SIGSTOP');
        await sleep(rec.ms);
        redis.signal('SIGCONT');
        break;
      case 'client-kill': {
        const list = await admin.client('LIST');
        const ids = list
          .split('\n')
          .map((l) => ({ id: /\bid=(\d+)/.exec(l)?.[1], name: /\bname=(\S*)/.exec(l)?.[1] }))
          .filter((c) => c.id && c.name !== 'chaos-nemesis');
        for (const c of ids) await admin.client('KILL', 'ID', c.id).catch(() => 0);
        rec.killed = ids.length;
        break;
      }
      case 'debug-sleep': {
        rec.ms = 1500;
        await admin.call('DEBUG', 'SLEEP', String(rec.ms / 1000));
        break;
      }
      case 'oom':
        rec.ms = 2000;
        await admin.config('SET', 'maxmemory', '1');
        await sleep(rec.ms);
        await admin.config('SET', 'maxmemory', '0');
        break;
      default:
        throw new Error(`unknown fault ${f.kind}`);
    }
    rec.end = Date.now();
    return rec;
  }

  const started = Date.now();
  try {
    await redis.start();
    await adminClient();
    await Promise.all(Array.from({ length: opts.workers }, (_, i) => startWorker(i)));
    const perProducer = Math.ceil(opts.jobs / opts.producers);
    const producers = [];
    for (let p = 0; p < opts.producers; p++) {
      const count = Math.min(perProducer, opts.jobs - p * perProducer);
      producers.push(
        forkChild('producer.js', {
          ...base,
          tag: `p${p}`,
          count,
          rate: (count * 1000) / opts.durationMs,
          inflight: 8,
          seed: opts.seed * 1000 + p,
          mix: opts.mix,
          log: path.join(dir, `producer-${p}.jsonl`),
        }),
      );
    }
    const t0 = Date.now();
    for (const f of plan) {
      const wait = t0 + f.at - Date.now();
      if (wait > 0) await sleep(wait);
      const rec = await inject(f);
      faults.push(rec);
      say(`${rec.kind} ${rec.pid ? `pid ${rec.pid} ` : ''}${rec.end - rec.start} ms`);
    }
    const producerExits = await Promise.all(producers.map((p) => p.exitedP));
    producerExits.forEach((e, i) => {
      if (e.code !== 0) throw new Error(`producer ${i} exited ${JSON.stringify(e)}: ${producers[i].stderrText()}`);
    });
    say(`producers done after ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for the queue to drain`);

    // recovery: nothing waiting, delayed or active, twice in a row, within recoveryMs
    const k = (s) => `${prefix}:${queue}:${s}`;
    const deadline = Date.now() + opts.recoveryMs;
    let quiet = 0;
    let drainedAt = null;
    while (Date.now() < deadline) {
      const [[, a], [, b], [, c], [, d], [, e]] = await admin
        .multi()
        .llen(k('wait'))
        .llen(k('active'))
        .zcard(k('delayed'))
        .zcard(k('prioritized'))
        .llen(k('paused'))
        .exec();
      if (a + b + c + d + e === 0) {
        quiet += 1;
        if (quiet >= 2) {
          drainedAt = Date.now();
          break;
        }
      } else quiet = 0;
      await sleep(250);
    }

    // Redis's view, read before the workers stop (closing them settles nothing new)
    const state = {};
    state.completed = await admin.zrange(k('completed'), 0, -1);
    state.failed = await admin.zrange(k('failed'), 0, -1);
    state.active = await admin.lrange(k('active'), 0, -1);
    state.wait = await admin.lrange(k('wait'), 0, -1);
    state.delayed = await admin.zrange(k('delayed'), 0, -1);
    state.prioritized = await admin.zrange(k('prioritized'), 0, -1);
    state.paused = await admin.lrange(k('paused'), 0, -1);
    const failedPipe = admin.pipeline();
    for (const id of state.failed) failedPipe.hget(k(id), 'failedReason');
    state.failedReason = Object.fromEntries((await failedPipe.exec()).map(([, r], i) => [state.failed[i], r]));
    // every job hash of the queue (a job written half-way would be a hash in no state)
    state.jobHashes = [];
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:${queue}:p*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const rest = key.slice(`${prefix}:${queue}:`.length);
        if (/^p\d+-\d+$/.test(rest)) state.jobHashes.push(rest);
      }
    } while (cursor !== '0');
    const { Queue } = opts.impl === 'bullmq' ? require('bullmq') : require('..');
    const q = new Queue(queue, { prefix, connection: { host: '127.0.0.1', port } });
    state.jobCounts = await q.getJobCounts();
    await q.close();

    await Promise.all(
      workers.map(async (w) => {
        if (w.connected) w.send('close');
        const t = setTimeout(() => w.kill('SIGKILL'), 10000);
        await w.exitedP;
        clearTimeout(t);
      }),
    );

    const logs = { acks: [], rejects: [], worker: [] };
    for (const file of fs.readdirSync(dir)) {
      if (!file.endsWith('.jsonl')) continue;
      const records = readLog(path.join(dir, file));
      if (file.startsWith('producer')) {
        for (const r of records) if (r.ev === 'ack') logs.acks.push(r);
        else if (r.ev === 'rej') logs.rejects.push(r);
      } else {
        logs.worker.push(...records);
      }
    }
    const verdict = analyze({ opts: { ...opts, faults: opts.faults }, faults, logs, state, drainedAt, started, t0 });
    verdict.dir = opts.keep ? dir : undefined;
    return verdict;
  } finally {
    for (const c of children) {
      try {
        c.kill('SIGCONT');
        c.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    await Promise.all([...children].map((c) => c.exitedP));
    if (admin) admin.disconnect();
    await redis.stop({ keep: opts.keep });
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { runChecker, schedule, ALL_FAULTS, DEFAULTS };
