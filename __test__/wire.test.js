'use strict';
// lib/wire.js: the JS side's one encoder/decoder of the hot paths' JSON text, round-tripped
// on its own and through the engine against the real Redis.

const test = require('node:test');
const assert = require('node:assert/strict');
const { REDIS_URL, uniquePrefix, waitFor, cleanup } = require('./helpers');
const { acquireEngine, engineConfig } = require('../lib/connection');
const wire = require('../lib/wire');

test('encodeJob and encodeAddPayload round-trip: the JSON text decodes to what was given', () => {
  const data = { text: 'say "hi"\n', n: 1.5, list: [1, null, 'é'] };
  const jobs = [
    wire.encodeJob('a "quoted" name', JSON.stringify(data), '{"delay":5}'),
    wire.encodeJob('plain', '7', '{}'),
  ];
  const withAny = JSON.parse(wire.encodeAddPayload('[{"attempts":3}]', jobs, true));
  assert.deepEqual(withAny, {
    defaults: [{ attempts: 3 }],
    anyData: true,
    jobs: [
      { name: 'a "quoted" name', data, opts: { delay: 5 } },
      { name: 'plain', data: 7, opts: {} },
    ],
  });
  const objectsOnly = JSON.parse(wire.encodeAddPayload('[]', []));
  assert.deepEqual(objectsOnly, { defaults: [], jobs: [] });
  assert.equal('anyData' in objectsOnly, false);
});

test('decodeScheduler decodes the template data and options and keeps the rest', () => {
  const s = wire.decodeScheduler({ key: 'k', name: 'n', next: 5, data: '{"a":1}', opts: '{}' });
  assert.deepEqual(s, { key: 'k', name: 'n', next: 5, data: { a: 1 }, opts: {} });
  assert.equal(wire.decodeJob(null), null);
});

test('an add payload round-trips through the engine: results, stored jobs and job batches decode', async (t) => {
  const prefix = uniquePrefix('jqt-wire');
  const { native, release } = await acquireEngine(engineConfig(REDIS_URL, prefix));
  let worker;
  t.after(async () => {
    if (worker) await worker.close(1000).catch(() => {});
    release();
    await cleanup(REDIS_URL, prefix);
  });
  const data = { photo: 'a "b"', size: 3 };
  const payload = wire.encodeAddPayload(
    '[{"attempts":2}]',
    [
      wire.encodeJob('resize', JSON.stringify(data), '{"jobId":"x1"}'),
      wire.encodeJob('bad', '{}', '{"delay":-1}'),
      wire.encodeJob('scalar', '"text"', '{}'),
    ],
    true,
  );
  const result = wire.decodeAddResult(await native.addJobs('photos', payload, false));
  assert.equal(result.jobs.length, 3);
  const [id, created, timestamp, optsIndex] = result.jobs[0];
  assert.equal(id, 'x1');
  assert.equal(created, true);
  assert.ok(Math.abs(timestamp - Date.now()) < 60_000);
  assert.equal(JSON.parse(result.opts[optsIndex]).attempts, 2);
  assert.equal(Array.isArray(result.jobs[1]), false);
  assert.equal(result.jobs[1].code, 'ERR_VALIDATION');
  assert.equal(result.jobs[2][1], true);

  const stored = wire.decodeJob(await native.getJob('photos', 'x1'));
  assert.deepEqual(stored.data, data);
  assert.equal(stored.name, 'resize');

  const batches = [];
  const events = [];
  worker = await native.createWorker(
    'photos',
    { concurrency: 4 },
    // jobs and events come on the first channel, in the order the worker sent them
    (text) => {
      const message = wire.decodeWorkerMessage(text);
      if (Array.isArray(message)) batches.push(...message);
      else events.push(...message.events);
    },
    (text) => events.push(...wire.decodeWorkerEvents(text)),
  );
  worker.run(); // createWorker connects; the worker fetches once it runs
  await waitFor(() => batches.length === 2, { message: 'both jobs dispatched' });
  const byName = Object.fromEntries(batches.map((b) => [b.job.name, b]));
  assert.deepEqual(byName.resize.job.data, data);
  assert.equal(byName.scalar.job.data, 'text');
  assert.equal(typeof byName.resize.token, 'string');
  worker.complete([byName.resize.handle], [JSON.stringify({ ok: true })]);
  await waitFor(() => events.some((e) => e.type === 'completed'), { message: 'completed event' });
  const done = events.find((e) => e.type === 'completed');
  assert.equal(done.id, 'x1');
  assert.equal(done.handle, byName.resize.handle);
  assert.deepEqual(JSON.parse(done.result), { ok: true });
});
