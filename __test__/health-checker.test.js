'use strict';
// The design's QueueHealthChecker through coordinator.healthChecker and the facade, and
// monitoring.healthChecks: periodic `health` events over every queue, degraded and unhealthy
// queues logged at warn, nothing when disabled, nothing after shutdown.

const test = require('node:test');
const assert = require('node:assert/strict');
const { ValidationError, QueueHealthCheckerImpl } = require('..');
const { waitFor, setupCoordinators } = require('./helpers');

const setup = (t, config) => setupCoordinators(t, 'jqt-health', config);

test('checkQueueHealth, getAllQueuesHealth and getHealthRecommendations through the manager', async (t) => {
  const { c } = setup(t);
  assert.ok(c.healthChecker instanceof QueueHealthCheckerImpl);
  await c.enqueueJob('orphan', 'o', {}); // waiting, no worker: critical
  await c.registerWorker('fine', async () => 'ok');
  await c.enqueueJob('fine', 'f', {});
  await waitFor(async () => (await c.getQueueStatus('fine')).jobCounts.completed === 1);
  const orphan = await c.healthChecker.checkQueueHealth('orphan');
  assert.equal(orphan.status, 'unhealthy');
  assert.equal(orphan.metrics.jobCounts.waiting, 1);
  assert.equal(orphan.metrics.activeWorkers, 0);
  assert.equal((await c.checkQueueHealth('fine')).status, 'healthy');
  const all = await c.healthChecker.getAllQueuesHealth();
  assert.equal(all.get('orphan').status, 'unhealthy');
  assert.equal(all.get('fine').status, 'healthy');
  const recs = await c.healthChecker.getHealthRecommendations('orphan');
  assert.equal(recs[0].type, 'scale_workers');
  assert.equal(recs[0].priority, 'high');
});

test('monitoring.healthChecks: periodic health events of every queue; unhealthy ones logged at warn', async (t) => {
  const warnings = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (fields, msg) => warnings.push({ msg, ...fields }) };
  // a (fields, message) logger written by hand: loggerStyle says so (pino's is recognised)
  const env = setup(t, { logger, loggerStyle: 'pino', monitoring: { healthChecks: { enabled: true, interval: 40 } } });
  const c = env.c;
  await c.enqueueJob('stuck', 's', {});
  await c.pauseQueue('held');
  const events = [];
  c.on('health', (h) => events.push(h));
  await waitFor(() => events.some((e) => e.queues.has('stuck') && e.queues.has('held')));
  const e = events.find((x) => x.queues.has('stuck') && x.queues.has('held'));
  assert.ok(e.checkedAt instanceof Date);
  assert.equal(e.status, 'unhealthy', 'the worst queue’s');
  assert.equal(e.queues.get('stuck').status, 'unhealthy');
  assert.equal(e.queues.get('held').status, 'degraded');
  await waitFor(() => warnings.some((w) => w.msg === 'queue unhealthy' && w.queue === 'stuck'));
  assert.ok(warnings.some((w) => w.msg === 'queue degraded' && w.queue === 'held'));

  await c.shutdown();
  const count = events.length;
  // a disabled coordinator on the same queues: no events; the enabled one above is stopped
  const quiet = env.make({ monitoring: { healthChecks: { enabled: false, interval: 20 } } });
  let heard = 0;
  quiet.on('health', () => heard++);
  const probe = env.make({ monitoring: { healthChecks: { enabled: true, interval: 20 } } });
  await Promise.all([quiet.initialize(), probe.initialize()]); // the checks start on connecting
  let probes = 0;
  probe.on('health', () => probes++);
  await waitFor(() => probes >= 3);
  assert.equal(heard, 0, 'disabled: no checks');
  assert.equal(events.length, count, 'shutdown stopped the checks');
  assert.throws(() => env.make({ monitoring: { healthChecks: { enabled: true, interval: -5 } } }), ValidationError);
  assert.throws(() => env.make({ monitoring: { healthChecks: { enabled: 'yes' } } }), ValidationError);
});

test('the design’s environment variables enable the checks when the config says nothing', async (t) => {
  const saved = { e: process.env.ENABLE_HEALTH_CHECKS, i: process.env.HEALTH_CHECK_INTERVAL };
  const restore = () => {
    for (const [k, v] of [['ENABLE_HEALTH_CHECKS', saved.e], ['HEALTH_CHECK_INTERVAL', saved.i]]) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  t.after(restore);
  process.env.ENABLE_HEALTH_CHECKS = 'true';
  process.env.HEALTH_CHECK_INTERVAL = '25';
  const env = setup(t);
  const off = env.make({ monitoring: { healthChecks: { enabled: false } } }); // the config wins
  restore();
  await Promise.all([env.c.initialize(), off.initialize()]); // the checks start on connecting
  let heard = 0;
  let offHeard = 0;
  env.c.on('health', () => heard++);
  off.on('health', () => offHeard++);
  await waitFor(() => heard >= 2);
  assert.equal(offHeard, 0);
});

test('loading the package and building a coordinator starts no timer; connecting does', async (t) => {
  const env = setup(t, { monitoring: { healthChecks: { enabled: true, interval: 20 } } });
  let heard = 0;
  env.c.on('health', () => heard++);
  // a coordinator that never connects never checks: poll a second coordinator meanwhile
  const other = env.make({ monitoring: { healthChecks: { enabled: true, interval: 20 } } });
  let otherHeard = 0;
  other.on('health', () => otherHeard++);
  await other.initialize();
  await waitFor(() => otherHeard >= 3);
  assert.equal(heard, 0, 'not connected: no periodic check ran');
});
