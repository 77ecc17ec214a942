#!/usr/bin/env node
'use strict';
// Failover under load on a real Redis Cluster (issue 16). Three masters with one replica
// each on loopback (scripts/redis-topology.js); one queue per master (a hash tag chosen for
// each); a producer adds a steady stream to all three, with replication-acknowledged adds
// (`wait: { replicas: 1 }`) or without; one Worker per queue processes them. Mid-stream the
// master of one queue is SIGKILLed (its replica takes over; the killed server is restarted
// and rejoins as a replica, as a supervisor would do) or handed over with CLUSTER FAILOVER
// on its replica. Nothing is restarted on the client side: the workers and the producer
// carry on by themselves.
//
// The report: adds acknowledged and not, every acknowledged job completed or not (checked
// by id in Redis), acknowledged jobs lost (no trace left), jobs that ran twice, the longest
// gap between completions on the queue whose master went and on the others, how long the
// slot had no master, how long until the first completion after the fault, jobs left in
// active at the end.
//
//   node chaos/cluster-failover.js [--fault kill|failover] [--no-wait] [--rate N]
//        [--before S] [--after S] [--node-timeout MS] [--json]

const IORedis = require('ioredis');
const { startCluster, until } = require('../scripts/redis-topology');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one scenario and resolves to its report (see the header). Options: `fault` ('kill' |
 * 'failover'), `wait` (replication-acknowledged adds, default true), `rate` (jobs per second
 * over the three queues, default 300), `beforeMs` / `afterMs` (stream before and after the
 * fault), `nodeTimeout` (cluster-node-timeout), `concurrency` and `jobMs` of the workers,
 * `drainMs` (how long the acknowledged jobs may take to complete after the stream ends),
 * `log` (progress lines).
 */
async function runClusterFailover({
  fault = 'kill',
  wait = true,
  rate = 300,
  beforeMs = 3000,
  afterMs = 6000,
  nodeTimeout = 1000,
  concurrency = 8,
  jobMs = 5,
  drainMs = 45000,
  log = () => {},
} = {}) {
  // required here so `--help` works without a built addon
  const { Queue, Worker, ReplicationError } = require('..');
  const cluster = await startCluster({ masters: 3, replicas: 1, aof: false, nodeTimeout });
  const closers = [];
  try {
    const tags = await cluster.tagsPerMaster('fo');
    const prefix = `jqfo${process.pid}`;
    const names = tags.map((t) => `{${t}}load`);
    const target = 1; // the queue whose master goes
    const connection = { cluster: { nodes: cluster.nodes } };
    const producerConnection = wait ? { ...connection, wait: { replicas: 1, timeout: 1000 } } : connection;

    // --- workers: one per queue, never restarted ---------------------------------------
    const ran = names.map(() => new Map()); // id -> times the processor started it
    const completions = names.map(() => []); // ms of each 'completed' event
    const workerErrors = [];
    const workers = names.map((name, qi) => {
      const w = new Worker(
        name,
        async (job) => {
          ran[qi].set(job.id, (ran[qi].get(job.id) || 0) + 1);
          await sleep(jobMs);
          return job.data.seq;
        },
        // short locks so a job whose completion the failover lost is found again soon;
        // generous maxStalledCount so such a job is recovered, not failed
        { connection, prefix, concurrency, lockDuration: 3000, stalledInterval: 1000, maxStalledCount: 10 },
      );
      w.on('completed', () => completions[qi].push(Date.now()));
      w.on('error', (err) => workerErrors.push(`${name}: ${err.message}`));
      closers.push(() => w.close());
      return w;
    });
    await Promise.all(workers.map((w) => w.waitUntilReady()));

    // --- producer: a steady stream, custom ids so a lost id counter cannot reuse an id ---
    const producers = names.map((name) => {
      const q = new Queue(name, { connection: producerConnection, prefix });
      q.on('error', () => {});
      closers.push(() => q.close());
      return q;
    });
    const acked = names.map(() => new Set());
    const ackTimes = names.map(() => []);
    const notAcked = { replication: 0, other: 0, skipped: 0 };
    const errorKinds = new Map();
    let slowestAddMs = 0;
    const outstanding = names.map(() => 0);
    const pending = new Set();
    let seq = 0;
    let producing = true;
    const tickMs = 10;
    const perTick = rate / 3 / (1000 / tickMs);
    let credit = 0;
    const producer = (async () => {
      while (producing) {
        credit += perTick;
        while (credit >= 1) {
          credit -= 1;
          const n = seq++;
          for (let qi = 0; qi < names.length; qi++) {
            if (outstanding[qi] >= 200) {
              notAcked.skipped++;
              continue;
            }
            outstanding[qi]++;
            const id = `j${qi}-${n}`;
            const started = Date.now();
            const p = producers[qi]
              .add('load', { seq: n }, { jobId: id })
              .then(
                () => {
                  acked[qi].add(id);
                  ackTimes[qi].push(Date.now());
                  slowestAddMs = Math.max(slowestAddMs, Date.now() - started);
                },
                (err) => {
                  if (err instanceof ReplicationError) notAcked.replication++;
                  else notAcked.other++;
                  const kind = `${err.code || err.name}: ${String(err.message).slice(0, 80)}`;
                  errorKinds.set(kind, (errorKinds.get(kind) || 0) + 1);
                },
              )
              .finally(() => {
                outstanding[qi]--;
                pending.delete(p);
              });
            pending.add(p);
          }
        }
        await sleep(tickMs);
      }
    })();

    const start = Date.now();
    await sleep(beforeMs);
    const key = `${prefix}:${names[target]}:wait`;
    const from = await cluster.masterOf(key);
    log(`fault: ${fault} of master ${from} (queue ${names[target]})`);
    const faultAt = Date.now();
    let promotedAt;
    let rejoinedAt;
    if (fault === 'kill') {
      const killed = await cluster.killMasterOf(key, 30000);
      promotedAt = Date.now();
      log(`killed ${killed}; new master ${await cluster.masterOf(key)}; restarting ${killed}`);
      // a supervisor restarts the node: it rejoins as the new master's replica, and
      // replication-acknowledged adds find a replica again
      await cluster.server(killed).restart();
      const to = await cluster.masterOf(key);
      await until(async () => (await cluster.replicaOf(to)) === killed, 30000, `${killed} rejoins as a replica`);
      rejoinedAt = Date.now();
      log(`${killed} rejoined as a replica`);
    } else if (fault === 'failover') {
      await cluster.failoverOf(key, 30000);
      promotedAt = Date.now();
    } else {
      throw new Error(`unknown fault ${fault}`);
    }
    log(`promoted after ${promotedAt - faultAt} ms`);
    await sleep(afterMs);
    producing = false;
    await producer;
    const endOfStream = Date.now();
    await Promise.allSettled([...pending]);
    log(`stream over: ${acked.reduce((n, s) => n + s.size, 0)} acknowledged adds`);

    // --- the outcome, read from Redis -----------------------------------------------------
    const io = new IORedis.Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 3 } });
    io.on('error', () => {});
    closers.push(async () => io.disconnect());
    const completedIds = async (qi) => new Set(await io.zrange(`${prefix}:${names[qi]}:completed`, 0, -1));
    const missing = async () => {
      const out = [];
      for (let qi = 0; qi < names.length; qi++) {
        const done = await completedIds(qi);
        for (const id of acked[qi]) if (!done.has(id)) out.push([qi, id]);
      }
      return out;
    };
    // with `wait`, every acknowledged job must complete; without, some may be gone
    const drainDeadline = Date.now() + drainMs;
    let left = await missing();
    while (left.length > 0 && Date.now() < drainDeadline) {
      // a job that is still somewhere (wait, active, delayed) will complete; one that is
      // gone never will
      const present = await Promise.all(left.map(([qi, id]) => io.exists(`${prefix}:${names[qi]}:${id}`)));
      if (present.every((p) => p === 0)) break;
      await sleep(250);
      left = await missing();
    }
    const exists = await Promise.all(left.map(([qi, id]) => io.exists(`${prefix}:${names[qi]}:${id}`)));
    const lost = left.filter((_, i) => exists[i] === 0);
    const unfinished = left.filter((_, i) => exists[i] === 1);
    const counts = async () => Promise.all(producers.map((q) => q.getJobCounts('active', 'wait', 'delayed', 'failed').catch((e) => ({ error: e.message }))));
    let finalCounts = await counts();
    // nothing left in active: the stalled check gives back whatever the failover orphaned
    await until(async () => {
      finalCounts = await counts();
      return finalCounts.every((c) => c.active === 0 && !c.error);
    }, 20000, 'no active jobs').catch(() => {});

    const gap = (times, from, to) => {
      const t = [from, ...times.filter((x) => x >= from && x <= to), to];
      let longest = 0;
      for (let i = 1; i < t.length; i++) longest = Math.max(longest, t[i] - t[i - 1]);
      return longest;
    };
    // nothing completes on the queue while its slot has no master: the first completion
    // after the promotion is when processing came back
    const firstAfter = completions[target].find((x) => x > promotedAt);
    const duplicates = ran.flatMap((m, qi) => [...m].filter(([, n]) => n > 1).map(([id, n]) => ({ queue: names[qi], id, runs: n })));
    // per 500 ms from the start: completions and acknowledged adds per queue
    const bucket = (times) => {
      const out = new Array(Math.ceil((endOfStream - start) / 500)).fill(0);
      for (const x of times) if (x >= start && x < endOfStream) out[Math.floor((x - start) / 500)]++;
      return out.join(' ');
    };
    const timeline = names.map((n, qi) => ({ queue: n, completed: bucket(completions[qi]), acked: bucket(ackTimes[qi]) }));
    return {
      fault,
      wait,
      faultAtMs: faultAt - start,
      timeline,
      rate,
      attempted: seq * names.length,
      acknowledged: acked.reduce((n, s) => n + s.size, 0),
      notAcknowledged: notAcked,
      addErrors: Object.fromEntries(errorKinds),
      slowestAcknowledgedAddMs: slowestAddMs,
      completed: (await Promise.all(names.map((_, qi) => completedIds(qi)))).reduce((n, s) => n + s.size, 0),
      acknowledgedNotCompleted: left.length,
      lostAcknowledged: lost.map(([qi, id]) => `${names[qi]}:${id}`),
      unfinishedAcknowledged: unfinished.map(([qi, id]) => `${names[qi]}:${id}`),
      ranTwice: duplicates.length,
      duplicates: duplicates.slice(0, 20),
      noMasterMs: promotedAt - faultAt,
      rejoinedMs: rejoinedAt ? rejoinedAt - faultAt : undefined,
      recoveredMs: firstAfter ? firstAfter - faultAt : null,
      longestGapMs: gap(completions[target], start, endOfStream),
      longestGapOtherQueuesMs: Math.max(...names.map((_, qi) => (qi === target ? 0 : gap(completions[qi], start, endOfStream)))),
      completionsAfterFault: completions.map((c) => c.filter((x) => x > faultAt).length),
      finalCounts,
      workerErrors: workerErrors.length,
      workerErrorSamples: [...new Set(workerErrors)].slice(0, 5),
      workersRunning: workers.map((w) => w.isRunning()),
    };
  } finally {
    // bounded, so the servers are stopped whatever state the clients are in
    for (const close of closers.reverse()) await Promise.race([close().catch(() => {}), sleep(10000)]);
    await cluster.stop();
  }
}

module.exports = { runClusterFailover };

if (require.main === module) {
  const argv = process.argv.slice(2);
  const o = { log: (m) => console.error(`cluster-failover: ${m}`) };
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => Number(argv[++i]);
    if (a === '--fault') o.fault = argv[++i];
    else if (a === '--no-wait') o.wait = false;
    else if (a === '--rate') o.rate = v();
    else if (a === '--before') o.beforeMs = v() * 1000;
    else if (a === '--after') o.afterMs = v() * 1000;
    else if (a === '--node-timeout') o.nodeTimeout = v();
    else if (a === '--json') json = true;
    else {
      console.error('usage: node chaos/cluster-failover.js [--fault kill|failover] [--no-wait] [--rate N] [--before S] [--after S] [--node-timeout MS] [--json]');
      process.exit(2);
    }
  }
  runClusterFailover(o).then(
    (r) => {
      console.log(json ? JSON.stringify(r) : r);
      process.exit(r.wait && r.acknowledgedNotCompleted > 0 ? 1 : 0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
