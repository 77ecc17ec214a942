'use strict';
// Redis behind Sentinel, on real servers (scripts/redis-topology.js: a master, a replica and
// three redis-sentinel processes on loopback, stopped by pid when the file ends):
// - the public API on the master the sentinels name: BullMQ-style Queue / Worker /
//   QueueEvents with `connection: { sentinels, name }`, an ioredis instance made with
//   sentinel options, the coordinator with `redis: { sentinels, name, sentinelPassword }`,
//   the environment (REDIS_SENTINELS...) in a child process, the redis+sentinel:// URL;
//   `role: 'slave'` refused, unknown names and dead sentinels;
// - failover under load: the master SIGKILLed while producers add (with and without
//   `wait`) and workers process, the replica 50 ms behind; zero acknowledged jobs lost
//   with `wait`, none stuck in active, the old master back as a replica with nothing of
//   ours on it; the figures (lost without `wait`, duplicates, longest gap, kill → first
//   completion) are printed as diagnostics.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFile } = require('node:child_process');
const IORedis = require('ioredis');
const { Queue, Worker, QueueEvents, JobQueueCoordinator, ValidationError, ConnectionError, ReplicationError } = require('..');
const { startSentinels } = require('../scripts/redis-topology');
const { freePort } = require('../chaos/redis');
const { uniquePrefix, waitFor } = require('./helpers');

const DATA_PW = 'data-pw-1';
const SENTINEL_PW = 'sentinel-pw-1';

/** The set the API tests share: data nodes and sentinels both behind passwords. */
let set;
test.before(async () => {
  set = await startSentinels({ password: DATA_PW, sentinelPassword: SENTINEL_PW });
});
test.after(async () => {
  await set?.stop();
});

/** The connection options of the shared set. */
function sentinelConnection(extra = {}) {
  return { sentinels: set.sentinels, name: set.name, password: DATA_PW, sentinelPassword: SENTINEL_PW, ...extra };
}

/** A job hash field read on data node `port` directly. */
function onNode(port, fn) {
  return set.node(port, fn);
}

test('Queue, Worker and QueueEvents with connection { sentinels, name } work on the master the sentinels name', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jq-sentinel');
  const connection = sentinelConnection();
  const qe = new QueueEvents('api', { connection, prefix });
  t.after(() => qe.close());
  await qe.waitUntilReady();
  const completed = new Map();
  qe.on('completed', ({ jobId, returnvalue }) => completed.set(jobId, returnvalue));
  const worker = new Worker('api', async (job) => ({ doubled: job.data.n * 2 }), { connection, prefix, concurrency: 2 });
  t.after(() => worker.close());
  const queue = new Queue('api', { connection, prefix });
  t.after(() => queue.close());
  const jobs = await queue.addBulk([1, 2, 3, 4, 5].map((n) => ({ name: 'double', data: { n } })));
  await waitFor(() => completed.size === 5, { message: 'five completed events' });
  for (const job of jobs) assert.deepEqual(completed.get(job.id), { doubled: job.data.n * 2 });
  // on the master the sentinels name, and replicated to the replica
  const master = await set.masterPort();
  const replica = set.servers.find((s) => s.port !== master).port;
  assert.equal(await onNode(master, (c) => c.hget(`${prefix}:api:${jobs[0].id}`, 'returnvalue')), '{"doubled":2}');
  await waitFor(async () => (await onNode(replica, (c) => c.zcard(`${prefix}:api:completed`))) === 5, { message: 'replicated' });
  // the worker's named connection is on the master: BullMQ's getWorkers sees it
  assert.equal((await queue.getWorkers()).length, 1);
});

test('an ioredis instance made with sentinel options works as the connection', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jq-sentinel');
  const io = new IORedis({ ...sentinelConnection(), lazyConnect: true });
  t.after(() => io.disconnect());
  const queue = new Queue('io', { connection: io, prefix });
  t.after(() => queue.close());
  const worker = new Worker('io', async (job) => `hi ${job.data.who}`, { connection: io, prefix });
  t.after(() => worker.close());
  const job = await queue.add('greet', { who: 'sentinel' });
  await waitFor(async () => (await queue.getJob(job.id))?.returnvalue === 'hi sentinel', { message: 'processed' });
  assert.equal(await onNode(await set.masterPort(), (c) => c.hget(`${prefix}:io:${job.id}`, 'name')), 'greet');
});

test('the coordinator with redis: { sentinels, name, sentinelPassword }', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jq-sentinel');
  const c = new JobQueueCoordinator({ redis: { ...sentinelConnection(), keyPrefix: prefix } });
  t.after(() => c.shutdown({ timeoutMs: 2000 }));
  await c.initialize();
  await c.registerWorker('coord', async (job) => job.data.n + 1);
  const job = await c.enqueueJob('coord', { n: 41 });
  await waitFor(async () => (await c.getJob('coord', job.id))?.returnvalue === 42, { message: 'processed' });
  assert.equal(await onNode(await set.masterPort(), (cl) => cl.hget(`${prefix}:coord:${job.id}`, 'returnvalue')), '42');
});

test('the environment: REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD for the default jobCoordinator (child process)', { timeout: 30000 }, async () => {
  const prefix = uniquePrefix('jq-sentinel');
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('REDIS_')) delete env[k];
  Object.assign(env, {
    REDIS_SENTINELS: set.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
    REDIS_SENTINEL_NAME: set.name,
    REDIS_SENTINEL_PASSWORD: SENTINEL_PW,
    REDIS_PASSWORD: DATA_PW,
    REDIS_KEY_PREFIX: prefix,
  });
  const script = `
    const { jobCoordinator } = require(${JSON.stringify(path.join(__dirname, '..'))});
    (async () => {
      const job = await jobCoordinator.enqueueJob('env', { from: 'env' });
      process.stdout.write(JSON.stringify({ id: job.id }));
      await jobCoordinator.shutdown({ timeoutMs: 1000 });
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { env, timeout: 20000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  const { id } = JSON.parse(out);
  assert.equal(await onNode(await set.masterPort(), (c) => c.hget(`${prefix}:env:${id}`, 'data')), '{"from":"env"}');
});

test('the URL form redis+sentinel://:password@host:port,host:port/name?sentinelPassword=…', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jq-sentinel');
  const hosts = set.sentinels.map((s) => `${s.host}:${s.port}`).join(',');
  const url = `redis+sentinel://:${DATA_PW}@${hosts}/${set.name}?sentinelPassword=${SENTINEL_PW}`;
  const queue = new Queue('url', { connection: url, prefix });
  t.after(() => queue.close());
  const job = await queue.add('u', { via: 'url' });
  assert.equal(await onNode(await set.masterPort(), (c) => c.hget(`${prefix}:url:${job.id}`, 'data')), '{"via":"url"}');
  const c = new JobQueueCoordinator({ redis: { url, keyPrefix: prefix } });
  t.after(() => c.shutdown({ timeoutMs: 2000 }));
  assert.equal((await c.getJob('url', job.id)).data.via, 'url');
});

test("role: 'slave' is refused with a ValidationError, before anything is written", { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jq-sentinel');
  const slave = sentinelConnection({ role: 'slave' });
  const refused = (e) => e instanceof ValidationError && e.code === 'ERR_VALIDATION' && /role$/.test(e.field);
  assert.throws(() => new Queue('r', { connection: slave, prefix }), refused);
  assert.throws(() => new Worker('r', async () => {}, { connection: slave, prefix }), refused);
  const io = new IORedis({ ...slave, lazyConnect: true });
  t.after(() => io.disconnect());
  assert.throws(() => new Queue('r', { connection: io, prefix }), refused, 'an ioredis instance made for a replica');
  const c = new JobQueueCoordinator({ redis: { ...slave, keyPrefix: prefix } });
  await assert.rejects(c.initialize(), refused);
  const keys = await onNode(await set.masterPort(), (cl) => cl.keys(`${prefix}*`));
  assert.deepEqual(keys, []);
});

test('sentinels that do not know the name: a ConnectionError that names it and the sentinels', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jq-sentinel');
  const queue = new Queue('n', { connection: sentinelConnection({ name: 'no-such-master' }), prefix });
  t.after(() => queue.close());
  const e = await queue.add('x', {}).then(() => null, (err) => err);
  assert.ok(e instanceof ConnectionError, `got ${e}`);
  assert.equal(e.code, 'ERR_CONNECTION');
  assert.match(e.message, /no-such-master/);
  assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${set.sentinels[0].port}`));
  const c = new JobQueueCoordinator({ redis: { ...sentinelConnection({ name: 'no-such-master' }), keyPrefix: prefix } });
  await assert.rejects(c.initialize(), (err) => err instanceof ConnectionError && /no-such-master/.test(err.message));
  // a wrong sentinel password is a connection error too, not a hang
  const wrong = new Queue('n', { connection: sentinelConnection({ sentinelPassword: 'wrong' }), prefix });
  t.after(() => wrong.close());
  await assert.rejects(wrong.getJobCounts(), (err) => err instanceof ConnectionError);
});

test('a sentinel that is down is skipped: the others are asked', { timeout: 30000 }, async (t) => {
  const prefix = uniquePrefix('jq-sentinel');
  const dead = { host: '127.0.0.1', port: await freePort() };
  const queue = new Queue('d', { connection: sentinelConnection({ sentinels: [dead, ...set.sentinels] }), prefix });
  t.after(() => queue.close());
  const job = await queue.add('x', { ok: true });
  assert.equal((await queue.getJob(job.id)).data.ok, true);
});

// ---------------------------------------------------------------------------------------
// Failover under load

const DOWN_AFTER = 1000;
/** How far behind the replica is: its replication goes through a link that holds 50 ms. */
const REPLICA_LAG = 50;

/**
 * Producers add a steady stream of jobs (custom ids; with `wait`, acknowledged only once a
 * replica confirmed them) while workers process them; the replica is REPLICA_LAG ms behind
 * (what its link holds at the kill never reaches it); the master is SIGKILLed, the
 * sentinels promote the replica, and the same objects carry on. With `rejoin`, the old
 * master is started again and must come back as a replica. Returns the accounting.
 */
async function failoverUnderLoad(t, { wait, rejoin }) {
  const fo = await startSentinels({ downAfter: DOWN_AFTER, replicaLag: REPLICA_LAG });
  // stopped last: the workers and queue close while Redis is still there (node:test runs
  // t.after hooks in the order they were added)
  const closers = [() => fo.stop()];
  t.after(async () => {
    for (const close of closers.reverse()) await close();
  });
  const prefix = uniquePrefix('jq-sentinel-fo');
  const base = { sentinels: fo.sentinels, name: fo.name };
  const queue = new Queue('load', { connection: wait ? { ...base, wait: { replicas: 1, timeout: 500 } } : base, prefix });
  closers.push(() => queue.close());
  const runs = new Map(); // job id → processor runs
  const completedAt = [];
  // workers wait for the connection as long as it takes (as BullMQ's must)
  const worker = new Worker(
    'load',
    async (job) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 2)); // the work
      return job.data.n;
    },
    { connection: { ...base, maxRetriesPerRequest: null }, prefix, concurrency: 8, lockDuration: 5000, stalledInterval: 1000 },
  );
  worker.on('completed', () => completedAt.push(Date.now()));
  worker.on('error', () => {}); // connection errors while the master is down
  closers.push(() => worker.close());

  const acked = new Map(); // id → when acknowledged
  const refused = { replication: 0, connection: 0, other: [] };
  let n = 0;
  let inflight = 0;
  const producer = setInterval(() => {
    if (inflight >= 64) return;
    const id = `j${++n}`;
    inflight++;
    queue
      .add('j', { n }, { jobId: id })
      .then(
        () => acked.set(id, Date.now()),
        (e) => {
          if (e instanceof ReplicationError) refused.replication++;
          else if (e.code === 'ERR_CONNECTION') refused.connection++;
          else refused.other.push(e);
        },
      )
      .finally(() => inflight--);
  }, 3);
  closers.push(() => clearInterval(producer));

  await waitFor(() => acked.size >= 300 && completedAt.length >= 200, { timeoutMs: 30000, message: 'load under way' });
  const loadFrom = Date.now();
  const killAt = Date.now();
  const { from, to } = await fo.killMaster();
  const promotedAt = Date.now();
  // the same producer and worker carry on on the new master
  await waitFor(() => completedAt.filter((c) => c > promotedAt).length >= 200, { timeoutMs: 30000, message: 'completions on the new master' });
  let rejoinedAt;
  if (rejoin) {
    await fo.rejoin(from);
    rejoinedAt = Date.now();
    // with wait, adds are acknowledged again once the old master replicates the new one
    await waitFor(() => [...acked.values()].filter((at) => at > rejoinedAt).length >= 100, { timeoutMs: 30000, message: 'adds acknowledged after the rejoin' });
  }
  clearInterval(producer);
  const loadTo = Date.now();
  await waitFor(() => inflight === 0, { timeoutMs: 30000, message: 'every add answered' });
  assert.deepEqual(refused.other, [], 'adds fail only with ReplicationError or a connection error');

  // every acknowledged job that is in Redis gets completed, and nothing stays active
  const master = (fn) => fo.node(to, fn);
  const counts = () => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  await waitFor(async () => Object.values(await counts()).every((v) => v === 0), { timeoutMs: 30000, message: 'queue drained, none stuck in active' });
  const completed = new Set(await master((c) => c.zrange(`${prefix}:load:completed`, 0, -1)));
  const lost = [...acked.keys()].filter((id) => !completed.has(id));
  const duplicates = [...runs.values()].filter((r) => r > 1).length;
  // from the last completion before the kill to the last one before the load stopped
  const during = completedAt.filter((c) => c <= loadTo).slice(completedAt.filter((c) => c < loadFrom).length - 1);
  let gap = 0;
  let gapFrom = 0;
  for (let i = 1; i < during.length; i++) {
    if (during[i] - during[i - 1] > gap) [gap, gapFrom] = [during[i] - during[i - 1], during[i - 1]];
  }
  // no completion can come from a new master before the sentinels could even see the old
  // one down; earlier ones are the old master's last replies
  const firstOnNew = completedAt.find((c) => c >= killAt + DOWN_AFTER);
  const figures = {
    sent: n,
    acknowledged: acked.size,
    refusedReplication: refused.replication,
    refusedConnection: refused.connection,
    lost: lost.length,
    duplicates,
    longestGapMs: gap,
    longestGapStartsAfterKillMs: gapFrom - killAt,
    killToPromotionMs: promotedAt - killAt,
    killToFirstCompletionOnNewMasterMs: firstOnNew - killAt,
  };
  t.diagnostic(JSON.stringify(figures));
  return { fo, from, to, prefix, figures, lost, rejoinedAt };
}

test('failover under load with wait: { replicas: 1 }: no acknowledged job lost, none stuck; the old master rejoins as a replica and nothing of ours touches it', { timeout: 180000 }, async (t) => {
  const { fo, from, prefix, figures, lost } = await failoverUnderLoad(t, { wait: true, rejoin: true });
  assert.deepEqual(lost, [], 'every job acknowledged after WAIT completes on the new master');
  assert.ok(figures.acknowledged >= 400);
  assert.ok(figures.refusedReplication > 0, 'adds while no replica was there were refused, not acknowledged');
  // the old master is a replica now, and no command of ours reached it since its restart:
  // no script call, no blocking read, no WAIT (replicated writes arrive as MULTI/EXEC)
  assert.equal(await fo.role(from), 'slave');
  const stats = await fo.node(from, (c) => c.info('commandstats'));
  for (const cmd of ['evalsha', 'eval', 'bzpopmin', 'xread', 'wait']) {
    assert.doesNotMatch(stats, new RegExp(`^cmdstat_${cmd}:`, 'm'), `${cmd} on the old master`);
  }
  const clients = await fo.node(from, (c) => c.call('CLIENT', 'LIST'));
  assert.doesNotMatch(clients, new RegExp(`name=${prefix}`), 'no worker or QueueEvents connection on the old master');
});

test('failover under load without wait: what asynchronous replication loses (measured, not asserted)', { timeout: 180000 }, async (t) => {
  const { figures } = await failoverUnderLoad(t, { wait: false, rejoin: false });
  assert.equal(figures.refusedReplication, 0, 'no WAIT, no ReplicationError');
  assert.ok(figures.acknowledged >= 400);
});
