'use strict';
// What BullMQ users pass as `connection` (a URL, ioredis-style options, or an ioredis
// instance) reaches the same Redis through our own clients; objects on one connection share
// one engine until the last of them closes; a bad connection is a ValidationError.

const test = require('node:test');
const assert = require('node:assert/strict');
const IORedis = require('ioredis');
const { Queue, ValidationError } = require('..');
const { engineConfig } = require('../lib/connection');
const { REDIS_URL, uniquePrefix, cleanup } = require('./helpers');

test('engineConfig reads URLs, ioredis options and ioredis instances alike', (t) => {
  const client = new IORedis({ host: '127.0.0.1', port: 6390, db: 3, password: 'pw', username: 'u', lazyConnect: true });
  t.after(() => client.disconnect());
  const viaInstance = engineConfig(client, 'p');
  assert.equal(viaInstance.host, '127.0.0.1');
  assert.equal(viaInstance.port, 6390);
  assert.equal(viaInstance.db, 3);
  assert.equal(viaInstance.password, 'pw');
  assert.equal(viaInstance.username, 'u');
  assert.equal(engineConfig(new IORedis({ lazyConnect: true }), 'p').password, undefined, "ioredis' null fields are absent");
  assert.equal(engineConfig('redis://h:1/2', 'p').url, 'redis://h:1/2');
  assert.equal(engineConfig({ host: 'h', tls: {} }, 'p').tls, true, 'a TLS options object turns TLS on');
  assert.equal(engineConfig(undefined, 'bull:').prefix, 'bull', "a trailing ':' on the prefix is dropped");
  assert.throws(() => engineConfig(42, 'p'), ValidationError);
  assert.throws(() => engineConfig({}, ''), ValidationError);
  assert.throws(() => engineConfig({ port: 'six' }, 'p'), ValidationError);
});

test('a Queue on an ioredis instance, one on options and one on a URL see the same jobs; closing one leaves the others working', async (t) => {
  const prefix = uniquePrefix('jqt-conn');
  t.after(() => cleanup(REDIS_URL, prefix));
  const client = new IORedis(REDIS_URL);
  t.after(() => client.quit());
  const { hostname, port } = new URL(REDIS_URL);
  const byInstance = new Queue('shared', { connection: client, prefix });
  const byOptions = new Queue('shared', { connection: { host: hostname, port: Number(port || 6379) }, prefix });
  const byUrl = new Queue('shared', { connection: REDIS_URL, prefix });
  t.after(() => Promise.all([byInstance.close(), byOptions.close(), byUrl.close()]));
  const job = await byInstance.add('j', { n: 1 });
  assert.equal((await byOptions.getJob(job.id)).data.n, 1);
  assert.equal(await byUrl.count(), 1);
  await byOptions.close();
  assert.equal(await byUrl.count(), 1, 'the other holders of the shared engine keep working');
  assert.equal(await client.hget(`${prefix}:shared:${job.id}`, 'name'), 'j', "written in BullMQ's layout where ioredis reads it");
});
