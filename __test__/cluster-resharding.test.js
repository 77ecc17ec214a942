'use strict';
// Resharding a Redis Cluster under load: a queue's slot moves to another master, its keys
// MIGRATEd in small batches, while a producer adds jobs and a worker runs them. While the
// slot is half migrated every script call on the queue is answered TRYAGAIN (or ASK, then
// TRYAGAIN on the new master) and retried by the engine; blocking reads (the worker's
// BZPOPMIN on the marker, QueueEvents' XREAD) are answered MOVED when the slot changes hands
// and block again on the new owner. docs/redis-layout.md, "Redis Cluster".

const test = require('node:test');
const assert = require('node:assert');
const { Queue, Worker, QueueEvents } = require('..');
const { startCluster, withNode } = require('../scripts/redis-topology');
const { uniquePrefix, waitFor } = require('./helpers');

/** The connections blocked on a node: `${name} ${cmd}` for each (CLIENT LIST). */
async function blockedOn(port) {
  const list = await withNode(port, (c) => c.call('CLIENT', 'LIST'));
  return list
    .split('\n')
    .filter((l) => /flags=\S*b/.test(l))
    .map((l) => `${/ name=(\S*)/.exec(l)[1]} ${/ cmd=(\S*)/.exec(l)[1]}`);
}

test('a queue\'s slot moves to another master while jobs flow: nothing acknowledged is lost', { timeout: 180000 }, async (t) => {
  const cluster = await startCluster({ masters: 3, replicas: 0, aof: false });
  // closed newest first, the cluster last (node:test runs after hooks in the order added)
  const closers = [() => cluster.stop()];
  t.after(async () => {
    for (const close of closers.reverse()) await close();
  });
  const connection = { cluster: { nodes: cluster.nodes } };
  const prefix = uniquePrefix('jqrs');
  const name = '{orders}';
  const key = `${prefix}:${name}:wait`;
  const home = await cluster.masterOf(key);

  const queue = new Queue(name, { connection, prefix });
  closers.push(() => queue.close());
  const events = new QueueEvents(name, { connection, prefix });
  closers.push(() => events.close());
  await events.waitUntilReady();
  const completedEvents = new Set();
  events.on('completed', ({ jobId }) => completedEvents.add(jobId));

  const runs = [];
  // a long drainDelay: a worker whose blocking wait was lost would sleep 60 s before fetching
  const worker = new Worker(name, async (job) => { runs.push(job.id); return job.id; }, { connection, prefix, concurrency: 4, drainDelay: 60 });
  closers.push(() => worker.close());
  await worker.waitUntilReady();

  // history to migrate: 1000 finished jobs (their hashes), plus the queue's own keys
  const PRE = 1000;
  await queue.addBulk(Array.from({ length: PRE }, (_, i) => ({ name: 'pre', data: { i } })));
  await waitFor(async () => (await queue.getJobCounts('completed')).completed === PRE, { timeoutMs: 60000, message: 'the history completed' });

  // a steady producer: one add every 5 ms; an add resolved is an acknowledged job
  const acked = [];
  const addErrors = [];
  let slowestAdd = 0;
  let producing = true;
  const producer = (async () => {
    let n = 0;
    while (producing) {
      const sent = Date.now();
      try {
        const job = await queue.add('flow', { n: n++ });
        acked.push(job.id);
      } catch (err) {
        addErrors.push(err.message);
      }
      slowestAdd = Math.max(slowestAdd, Date.now() - sent);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  await waitFor(() => acked.length >= 20, { message: 'the producer runs' });

  const before = acked.length;
  const started = Date.now();
  let batches = 0;
  // 10 keys a batch, 15 ms apart: a slow reshard, so the queue's calls meet the half-migrated
  // slot (TRYAGAIN, retried) for a couple of seconds
  const moved = await cluster.moveSlotOf(key, {
    batch: 10,
    between: async () => {
      batches += 1;
      await new Promise((resolve) => setTimeout(resolve, 15));
    },
  });
  const tookMs = Date.now() - started;
  const duringMove = acked.length - before;
  assert.strictEqual(moved.from, home);
  assert.notStrictEqual(moved.to, home);
  assert.strictEqual(await cluster.masterOf(key), moved.to, 'the slot is served by its new master');
  assert.ok(moved.keys > PRE, `${moved.keys} keys migrated`);

  // adds go on, on the new owner; then the producer stops
  const afterMove = acked.length;
  await waitFor(() => acked.length >= afterMove + 50, { timeoutMs: 30000, message: 'adds after the move' });
  producing = false;
  await producer;

  const total = PRE + acked.length;
  await waitFor(async () => (await queue.getJobCounts('completed')).completed === total, { timeoutMs: 60000, message: `all ${total} jobs completed` });
  const ran = new Set(runs);
  const lost = acked.filter((id) => !ran.has(id));
  assert.deepStrictEqual(lost, [], 'every acknowledged job ran');
  const duplicates = runs.length - ran.size;
  assert.deepStrictEqual(addErrors, [], 'no add failed');
  // QueueEvents' XREAD followed the slot: it saw every job of the flow complete
  await waitFor(() => acked.every((id) => completedEvents.has(id)), { timeoutMs: 20000, message: 'completed events for every flow job' });
  // idle now: the worker's BZPOPMIN and QueueEvents' XREAD block on the new owner
  assert.strictEqual((await queue.getWorkers()).length, 1, 'getWorkers asks the new owner, where the worker is named too');
  const named = `${prefix}:${Buffer.from(name).toString('base64')}`;
  await waitFor(async () => {
    const blocked = await blockedOn(moved.to);
    return blocked.includes(`${named} bzpopmin`) && blocked.includes(`${named}:qe xread`);
  }, { timeoutMs: 10000, message: 'the blocking reads wait on the new owner' });
  const sent = Date.now();
  const late = await queue.add('late', {});
  await waitFor(() => runs.includes(late.id), { timeoutMs: 5000, message: 'the idle worker woke on the new owner\'s marker' });
  const wokeMs = Date.now() - sent;

  t.diagnostic(`slot ${moved.slot} (${moved.keys} keys, ${PRE} finished jobs) moved from ${moved.from} to ${moved.to} in ${tookMs} ms, ${batches} batches of 10 keys`);
  t.diagnostic(`adds acknowledged: ${before} before the move, ${duringMove} during it, ${acked.length - before - duringMove} after; slowest add ${slowestAdd} ms; ${addErrors.length} add errors; ${duplicates} duplicate runs; idle worker woke ${wokeMs} ms after an add`);
});
