'use strict';
// On a Redis Cluster a queue's keys must share one slot: a queue name and prefix without a
// hash tag is refused with a ValidationError (field queueName, code ERR_VALIDATION) by every
// way of adding jobs, before anything is written; a tag in the name or in the prefix works.
// Runs on its own 3-master cluster (scripts/redis-topology.js), stopped by pid afterwards.

const test = require('node:test');
const assert = require('node:assert/strict');
const Redis = require('ioredis');
const { JobQueueCoordinator, Queue, ValidationError } = require('..');
const { startCluster } = require('../scripts/redis-topology');
const { uniquePrefix } = require('./helpers');

let cluster;
test.before(async () => {
  cluster = await startCluster({ masters: 3, replicas: 0, aof: false });
});
test.after(async () => {
  if (cluster) await cluster.stop();
});

/** Keys on every master of the cluster. */
async function allKeys() {
  const out = [];
  for (const { port } of cluster.nodes) {
    const c = new Redis({ host: '127.0.0.1', port });
    try {
      out.push(...(await c.keys('*')));
    } finally {
      c.disconnect();
    }
  }
  return out;
}

function assertUntagged(err, name) {
  assert.ok(err instanceof ValidationError, `a ValidationError, got ${err && err.constructor.name}: ${err && err.message}`);
  assert.equal(err.code, 'ERR_VALIDATION');
  assert.equal(err.field, 'queueName');
  assert.match(err.message, /hash tag/);
  assert.ok(err.message.includes(`{${name}}`), `the message suggests {${name}}: ${err.message}`);
}

test('the coordinator refuses a queue name without a hash tag and writes nothing', async (t) => {
  const prefix = uniquePrefix('jqt-slot');
  const c = new JobQueueCoordinator({ redis: { cluster: { nodes: cluster.nodes }, keyPrefix: prefix }, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  t.after(() => c.shutdown({ timeoutMs: 2000 }));
  await c.initialize();
  const before = await allKeys();
  await assert.rejects(c.enqueueJob('plain', 'x', { a: 1 }), (err) => (assertUntagged(err, 'plain'), true));
  await assert.rejects(
    c.enqueueBulk('plain', [{ name: 'x', data: { a: 1 } }]),
    (err) => (assertUntagged(err, 'plain'), true),
  );
  assert.deepEqual((await allKeys()).filter((k) => k.startsWith(prefix)), [], 'nothing written under the prefix');
  assert.deepEqual((await allKeys()).length, before.length);

  const job = await c.enqueueJob('{tagged}', 'x', { a: 1 });
  assert.ok(job.id, 'a tagged name is accepted');
  const keys = (await allKeys()).filter((k) => k.startsWith(prefix));
  assert.ok(keys.length > 0 && keys.every((k) => k.startsWith(`${prefix}:{tagged}:`)), keys.join(' '));
});

test("BullMQ's Queue class refuses it too; a tag in the prefix is enough", async (t) => {
  const prefix = uniquePrefix('jqt-slot');
  const q = new Queue('plain', { connection: { cluster: { nodes: cluster.nodes } }, prefix });
  q.on('error', () => {});
  t.after(() => q.close());
  await assert.rejects(q.add('x', { a: 1 }), (err) => (assertUntagged(err, 'plain'), true));
  await assert.rejects(q.addBulk([{ name: 'x', data: { a: 1 } }]), (err) => (assertUntagged(err, 'plain'), true));
  assert.deepEqual((await allKeys()).filter((k) => k.startsWith(prefix)), []);

  const tagged = `{${prefix}}`;
  const q2 = new Queue('plain', { connection: { cluster: { nodes: cluster.nodes } }, prefix: tagged });
  t.after(() => q2.close());
  const job = await q2.add('x', { a: 1 });
  assert.equal(await q2.getJobState(job.id), 'waiting');
});
