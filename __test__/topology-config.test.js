'use strict';
// The connection forms of a scaled-out Redis (cluster nodes, sentinels, their URLs and
// environment variables) and replication-acknowledged adds (`wait`): what each becomes, the
// typed errors bad values get before anything connects, and WAIT's outcome on a real master
// with and without a replica. The deployments themselves are exercised in the cluster and
// sentinel suites.

const test = require('node:test');
const assert = require('node:assert/strict');
const IORedis = require('ioredis');
const { Queue, JobQueueCoordinator, ValidationError, ReplicationError } = require('..');
const { engineConfig } = require('../lib/connection');
const { resolveConfig } = require('../lib/config');
const { REDIS_URL, uniquePrefix, cleanup, waitFor } = require('./helpers');
const { RedisServer, freePort } = require('../chaos/redis');

test('cluster and sentinel options become the engine topology fields', (t) => {
  const c = engineConfig({ cluster: { nodes: [{ host: 'a', port: 7000 }, 'b:7001', 7002] }, password: 'pw' }, 'p');
  assert.deepEqual(c.clusterNodes, [
    { host: 'a', port: 7000 },
    { host: 'b', port: 7001 },
    { host: '127.0.0.1', port: 7002 },
  ]);
  assert.equal(c.password, 'pw');
  const cluster = new IORedis.Cluster([{ host: '127.0.0.1', port: 7100 }], { lazyConnect: true, redisOptions: { password: 'x' } });
  t.after(() => cluster.disconnect());
  const viaCluster = engineConfig(cluster, 'p');
  assert.deepEqual(viaCluster.clusterNodes, [{ host: '127.0.0.1', port: 7100 }], "an ioredis Cluster's startup nodes");
  assert.equal(viaCluster.password, 'x', "its redisOptions' login");
  const s = engineConfig({ sentinels: [{ host: 's', port: 26379 }], name: 'mymaster', sentinelPassword: 'sp', role: 'master', db: 2 }, 'p');
  assert.deepEqual(
    [s.sentinels, s.sentinelName, s.sentinelPassword, s.db],
    [[{ host: 's', port: 26379 }], 'mymaster', 'sp', 2],
  );
  assert.deepEqual([engineConfig({ wait: { replicas: 2, timeout: 50 } }, 'p').waitReplicas, engineConfig({ wait: { replicas: 2 } }, 'p').waitTimeout], [2, undefined]);
});

test('bad cluster, sentinel and wait options are ValidationErrors naming the field', () => {
  const cases = [
    [{ cluster: { nodes: [] } }, 'connection.cluster.nodes'],
    [{ cluster: { nodes: [{ host: 'h', port: 70000 }] } }, 'connection.cluster.nodes[0].port'],
    [{ cluster: { nodes: [true] } }, 'connection.cluster.nodes[0]'],
    [{ sentinels: [{ host: 's', port: 1 }] }, 'connection.name'],
    [{ sentinels: [{ host: 's', port: 1 }], name: 'm', role: 'slave' }, 'connection.role'],
    [{ wait: { replicas: 0 } }, 'connection.wait.replicas'],
    [{ wait: { replicas: 1, timeout: 0 } }, 'connection.wait.timeout'],
    [{ wait: 3 }, 'connection.wait'],
  ];
  for (const [connection, field] of cases) {
    assert.throws(() => engineConfig(connection, 'p'), (e) => e instanceof ValidationError && e.code === 'ERR_VALIDATION' && e.field === field, JSON.stringify(connection));
  }
});

test('the environment names a cluster, sentinels and replication-acknowledged adds', () => {
  const cluster = resolveConfig({}, { REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001' }).redis;
  assert.deepEqual(cluster.cluster, { nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }] });
  const sentinel = resolveConfig({}, { REDIS_SENTINELS: 's1:26379,s2:26380', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'sp' }).redis;
  assert.deepEqual([sentinel.sentinels.length, sentinel.name, sentinel.sentinelPassword], [2, 'mymaster', 'sp']);
  assert.deepEqual(resolveConfig({}, { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT: '250' }).redis.wait, { replicas: 1, timeout: 250 });
  assert.equal(resolveConfig({}, {}).redis.wait, undefined, 'off by default, as BullMQ');
  // an address in the config wins over the environment's topology
  const explicit = resolveConfig({ redis: { host: 'h' } }, { REDIS_CLUSTER_NODES: 'a:1' }).redis;
  assert.equal(explicit.cluster, undefined);
  for (const [env, variable] of [
    [{ REDIS_CLUSTER_NODES: 'nohost' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'h:0' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_SENTINELS: 's:1' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'a:1' }, 'REDIS_SENTINELS'],
    [{ REDIS_WAIT_REPLICAS: '0' }, 'REDIS_WAIT_REPLICAS'],
  ]) {
    assert.throws(() => resolveConfig({}, env), (e) => e instanceof ValidationError && e.field === variable, JSON.stringify(env));
  }
});

test('redis+cluster:// and redis+sentinel:// URLs with bad parts are refused before connecting', async () => {
  for (const url of ['redis+cluster://h:1/0', 'redis+cluster://h', 'redis+sentinel://s:1', 'redis+sentinel://s:1/m?x=1']) {
    const q = new Queue('q', { connection: url });
    await assert.rejects(q.getJobCounts(), (e) => e instanceof ValidationError && e.field === 'redis.url', url);
    await q.close();
  }
  const c = new JobQueueCoordinator({ redis: { cluster: { nodes: [] } } });
  await assert.rejects(c.initialize(), (e) => e instanceof ValidationError && e.field === 'redis.cluster.nodes');
});

test('wait: an add on a master without the replicas asked for is a ReplicationError, the job stored', async (t) => {
  const prefix = uniquePrefix('jq-wait');
  t.after(() => cleanup(REDIS_URL, prefix));
  const q = new Queue('w', { connection: { url: REDIS_URL, wait: { replicas: 1, timeout: 20 } }, prefix });
  t.after(() => q.close());
  const e = await q.add('j', { n: 1 }, { jobId: 'one' }).then(() => null, (err) => err);
  assert.ok(e instanceof ReplicationError, `got ${e}`);
  assert.equal(e.code, 'ERR_NOT_REPLICATED');
  assert.match(e.message, /only 0 of 1 replicas confirmed it within 20 ms/);
  assert.equal((await q.getJob('one')).data.n, 1, 'stored on the master: retrying with the same jobId is safe');
});

test('wait: with a replica attached, adds resolve once it confirmed them', async (t) => {
  const master = await new RedisServer({ port: await freePort(), aof: false }).start();
  t.after(() => master.stop());
  const replica = await new RedisServer({ port: await freePort(), aof: false, args: ['--replicaof', '127.0.0.1', String(master.port)] }).start();
  t.after(() => replica.stop());
  const probe = new IORedis(master.port, '127.0.0.1');
  probe.on('error', () => {});
  t.after(() => probe.disconnect());
  await waitFor(async () => /connected_slaves:1/.test(await probe.info('replication')), { message: 'replica attached' });
  const q = new Queue('w', { connection: { port: master.port, wait: { replicas: 1, timeout: 5000 } } });
  t.after(() => q.close());
  const jobs = await Promise.all(Array.from({ length: 50 }, (_, i) => q.add('j', { i })));
  assert.equal(jobs.length, 50);
  const onReplica = new IORedis(replica.port, '127.0.0.1');
  onReplica.on('error', () => {});
  t.after(() => onReplica.disconnect());
  // confirmed means the replica has them now: read without waiting
  assert.equal(await onReplica.llen('bull:w:wait'), 50);
  const bulk = await q.addBulk(Array.from({ length: 20 }, (_, i) => ({ name: 'b', data: { i } })));
  assert.equal(bulk.length, 20);
  assert.equal(await onReplica.llen('bull:w:wait'), 70);
});
